using Microsoft.Extensions.DependencyInjection;

namespace Durably.Testing.Tests;

public sealed class StepSubstituteTests
{
    private static readonly DateTimeOffset s_start = new DurableTestHostOptions().StartTime;

    private static Task<DurableTestHost> StartTripHostAsync()
        => DurableTestHost.StartAsync(w => w.AddWorkflow<Trip>(), s => s.AddSingleton<TripLog>());

    [Fact]
    public async Task A_substitute_records_calls_and_runs_the_real_body_until_told_otherwise()
    {
        await using var host = await StartTripHostAsync();
        var flight = host.Substitute(Trip.DurableSteps.BookFlight);

        Assert.Equal("FL-ann + HO-ann", await host.RunToCompletionAsync<TripClient, string>(client => client.StartAsync("ann", "trip-ann")));

        var call = Assert.Single(flight.Calls);
        Assert.Equal(("trip-ann", 1, s_start, "ann"), (call.WorkflowId, call.Attempt, call.At, call.Input.who));
        Assert.Equal(StepContext.CreateIdempotencyKey("trip-ann", "BookFlight", call.Sequence), call.IdempotencyKey);
        Assert.Equal(["flight for ann", "hotel for ann"], host.GetRequiredService<TripLog>().Entries);
        Assert.Same(flight, host.Substitute(Trip.DurableSteps.BookFlight));
    }

    [Fact]
    public async Task A_returned_value_replaces_the_body_and_is_journaled_like_its_own()
    {
        await using var host = await StartTripHostAsync();
        host.Substitute(Trip.DurableSteps.BookHotel).Returns(input => "GRAND-" + input.who);

        Assert.Equal("FL-bob + GRAND-bob", await host.RunToCompletionAsync<TripClient, string>(client => client.StartAsync("bob", "trip-bob")));

        // The real hotel body never ran; the substitute's result is the step's journaled output.
        Assert.Equal(["flight for bob"], host.GetRequiredService<TripLog>().Entries);
        var details = await host.Client.GetRunDetailsAsync("trip-bob");
        var hotel = Assert.Single(details!.Operations, o => o.Name == "BookHotel");
        Assert.Equal((WorkflowOperationState.Completed, 1), (hotel.State, hotel.Attempts));
    }

    [Fact]
    public async Task Throwing_n_attempts_then_succeeding_goes_through_the_step_s_retries_at_their_times()
    {
        await using var host = await StartTripHostAsync();
        var hotel = host.Substitute(Trip.DurableSteps.BookHotel).Throws(new TimeoutException("no rooms yet"), attempts: 2);

        Assert.Equal("FL-cy + HO-cy", await host.RunToCompletionAsync<TripClient, string>(client => client.StartAsync("cy", "trip-cy")));

        // Attempts 1 and 2 failed, ten minutes apart; the real body ran on attempt 3, under one idempotency key.
        Assert.Equal([(1, s_start), (2, s_start.AddMinutes(10)), (3, s_start.AddMinutes(20))], hotel.Calls.Select(c => (c.Attempt, c.At)));
        Assert.Single(hotel.Calls.Select(c => c.IdempotencyKey).Distinct());
        Assert.Equal(["flight for cy", "hotel for cy"], host.GetRequiredService<TripLog>().Entries);
        var row = Assert.Single((await host.Client.GetRunDetailsAsync("trip-cy"))!.Operations, o => o.Name == "BookHotel");
        Assert.Equal(3, row.Attempts);
    }

    [Fact]
    public async Task A_substitute_that_always_throws_rolls_the_run_back_through_the_real_compensations()
    {
        await using var host = await StartTripHostAsync();
        var flight = host.Substitute(Trip.DurableSteps.BookFlight).Returns("FL-SUBSTITUTE");
        var hotel = host.Substitute(Trip.DurableSteps.BookHotel).Throws(new InvalidOperationException("sold out"));

        var failure = await Assert.ThrowsAsync<WorkflowFailedException>(() => host.RunToCompletionAsync<TripClient, string>(client => client.StartAsync("di", "trip-di")));

        Assert.Contains("sold out", failure.Message, StringComparison.Ordinal);
        Assert.Equal(3, hotel.Calls.Count);
        Assert.Single(flight.Calls);
        // The flight's compensation ran for real, with the substitute's journaled result.
        Assert.Equal(["cancel FL-SUBSTITUTE"], host.GetRequiredService<TripLog>().Entries);
    }

    [Fact]
    public async Task A_custom_body_gets_the_arguments_and_the_attempt_s_token()
    {
        await using var host = await StartTripHostAsync();
        var tokens = new List<bool>();
        host.Substitute(Trip.DurableSteps.BookFlight).Runs((input, token) =>
        {
            tokens.Add(token.CanBeCanceled);
            return Task.FromResult($"charter for {input.who}");
        });

        Assert.Equal("charter for eve + HO-eve", await host.RunToCompletionAsync<TripClient, string>(client => client.StartAsync("eve")));
        Assert.Equal([true], tokens);
    }

    [Fact]
    public async Task Hosts_in_parallel_keep_their_own_substitutes()
    {
        await using var first = await StartTripHostAsync();
        await using var second = await StartTripHostAsync();
        first.Substitute(Trip.DurableSteps.BookHotel).Returns("FIRST");
        second.Substitute(Trip.DurableSteps.BookHotel).Returns("SECOND");
        await using var plain = await StartTripHostAsync();

        var results = await Task.WhenAll(
            first.RunToCompletionAsync<TripClient, string>(client => client.StartAsync("f")),
            second.RunToCompletionAsync<TripClient, string>(client => client.StartAsync("s")),
            plain.RunToCompletionAsync<TripClient, string>(client => client.StartAsync("p")));

        Assert.Equal(["FL-f + FIRST", "FL-s + SECOND", "FL-p + HO-p"], results);
    }

    [Fact]
    public async Task Wrong_arguments_are_refused_with_what_is_wrong()
    {
        await using var host = await StartTripHostAsync();

        Assert.Throws<ArgumentNullException>(() => host.Substitute<Trip, Trip.DurableSteps.BookFlightInput, string>(null!));
        var unregistered = Assert.Throws<ArgumentException>(() => host.Substitute(Flaky.DurableSteps.Call));
        Assert.Contains("Step Call of Flaky is not a step of a workflow registered in this host (it has Trip)", unregistered.Message, StringComparison.Ordinal);

        var hotel = host.Substitute(Trip.DurableSteps.BookHotel);
        var zero = Assert.Throws<ArgumentOutOfRangeException>(() => hotel.Throws(new TimeoutException(), attempts: 0));
        Assert.Contains("BookHotel", zero.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentNullException>(() => hotel.Throws(null!));
        Assert.Throws<ArgumentNullException>(() => hotel.Runs(null!));
        Assert.Throws<ArgumentNullException>(() => hotel.Returns((Func<Trip.DurableSteps.BookHotelInput, string>)null!));

        await host.DisposeAsync();
        Assert.Throws<ObjectDisposedException>(() => host.Substitute(Trip.DurableSteps.BookHotel));
    }
}
