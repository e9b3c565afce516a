using Durably.Runtime;
using Durably.Runtime.Journal;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Testing.Tests;

public sealed class RunHistoryTests
{
    private static readonly DateTimeOffset s_start = new DurableTestHostOptions().StartTime;

    private static Task<DurableTestHost> StartAsync()
        => DurableTestHost.StartAsync(w => w.AddWorkflow<Trip>().AddWorkflow<Contract>().AddWorkflow<LongSleep>().AddWorkflow<Parked>(), s => s.AddSingleton<TripLog>());

    [Fact]
    public async Task Shows_the_steps_in_order_with_attempts_retries_and_their_times_and_keys()
    {
        await using var host = await StartAsync();
        host.Substitute(Trip.DurableSteps.BookHotel).Throws(new TimeoutException("no rooms yet"), attempts: 2);
        await host.RunToCompletionAsync<TripClient, string>(client => client.StartAsync("ann", "trip-ann"));

        var history = await host.GetHistoryAsync("trip-ann");

        history.AssertStatus(WorkflowStatus.Completed).AssertStepsCompleted(Trip.DurableSteps.BookFlight, Trip.DurableSteps.BookHotel).AssertAttempts(Trip.DurableSteps.BookHotel, 3).AssertCompensated();
        var hotel = history.StepOf(Trip.DurableSteps.BookHotel);
        Assert.Equal(
            [new HistoryRetry(1, s_start, s_start.AddMinutes(10), "System.TimeoutException: no rooms yet"), new HistoryRetry(2, s_start.AddMinutes(10), s_start.AddMinutes(20), "System.TimeoutException: no rooms yet")],
            hotel.Retries);
        Assert.Equal(StepContext.CreateIdempotencyKey("trip-ann", "BookHotel", hotel.Sequence), hotel.IdempotencyKey);
        Assert.Equal(("\"HO-ann\"", s_start.AddMinutes(20)), (hotel.OutputJson, hotel.CompletedAt));
        Assert.Equal("FL-ann + HO-ann", System.Text.Json.JsonSerializer.Deserialize<string>(history.OutputJson!));
        Assert.Empty(history.Alerts);
        Assert.Null(history.DeadLetterReason);
    }

    [Fact]
    public async Task Shows_compensations_in_the_order_they_ran_and_the_alert_raised()
    {
        await using var host = await StartAsync();
        host.Substitute(Trip.DurableSteps.BookHotel).Throws(new InvalidOperationException("sold out"));
        await Assert.ThrowsAsync<WorkflowFailedException>(() => host.RunToCompletionAsync<TripClient, string>(client => client.StartAsync("bo", "trip-bo")));

        var history = await host.GetHistoryAsync("trip-bo");

        history.AssertStatus(WorkflowStatus.Failed).AssertStepsCompleted(Trip.DurableSteps.BookFlight).AssertCompensated(Trip.DurableSteps.BookFlight);
        var compensation = Assert.Single(history.Compensations);
        Assert.Equal((JournalEntryState.Completed, StepContext.CreateIdempotencyKey("trip-bo", "BookFlight", 0) + "/compensate"), (compensation.State, compensation.IdempotencyKey));
        Assert.Equal(JournalEntryState.Failed, history.StepOf(Trip.DurableSteps.BookHotel).State);
        Assert.Equal(2, history.StepOf(Trip.DurableSteps.BookHotel).Retries.Count);
        var alert = Assert.Single(history.Alerts);
        Assert.Equal((DurableAlertKind.RunFailed, "BookHotel"), (alert.Kind, alert.FailedStep));
        Assert.Contains("sold out", history.Error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Shows_signals_timers_and_the_dead_letter_reason()
    {
        await using var host = await StartAsync();
        await host.RunToCompletionAsync<LongSleepClient, DateTimeOffset>(client => client.StartAsync(3, "sleep"));
        await host.RunToCompletionAsync<ContractClient, string>(client => client.StartAsync(1, "unsigned"));
        await Assert.ThrowsAsync<WorkflowFailedException>(() => host.RunToCompletionAsync<ParkedClient, int>(client => client.StartAsync(-1, "parked")));

        var timer = Assert.Single((await host.GetHistoryAsync("sleep")).Timers);
        Assert.Equal((JournalEntryState.Completed, s_start.AddDays(3)), (timer.State, timer.CompletedAt));

        var signal = Assert.Single((await host.GetHistoryAsync("unsigned")).Signals);
        Assert.Equal(("Signature", null, s_start.AddDays(4)), (signal.OperationId, signal.OutputJson, signal.CompletedAt));

        var parked = await host.GetHistoryAsync("parked");
        parked.AssertStatus(WorkflowStatus.DeadLettered);
        Assert.Contains("negative values need a person", parked.DeadLetterReason, StringComparison.Ordinal);
        Assert.Equal(DurableAlertKind.RunDeadLettered, Assert.Single(parked.Alerts).Kind);
    }

    [Fact]
    public async Task A_failed_assertion_says_what_it_expected_and_prints_the_journal()
    {
        await using var host = await StartAsync();
        await host.RunToCompletionAsync<TripClient, string>(client => client.StartAsync("cy", "trip-cy"));
        var history = await host.GetHistoryAsync("trip-cy");

        var order = Assert.Throws<DurableAssertionException>(() => history.AssertStepsCompleted(Trip.DurableSteps.BookHotel, Trip.DurableSteps.BookFlight));
        Assert.StartsWith("Expected completed steps [BookHotel, BookFlight], found [BookFlight, BookHotel].", order.Message, StringComparison.Ordinal);
        Assert.Contains("Run 'trip-cy' of workflow 'Trip' v1: Completed.", order.Message, StringComparison.Ordinal);
        Assert.Contains($"#0 Step 'BookFlight' Completed, attempt 1, {s_start:O} -> {s_start:O}, key trip-cy/BookFlight/0, in {{\"who\":\"cy\"}}, out \"FL-cy\"", order.Message, StringComparison.Ordinal);

        Assert.Contains("Expected the run to be Failed, but it is Completed.", Assert.Throws<DurableAssertionException>(() => history.AssertStatus(WorkflowStatus.Failed)).Message, StringComparison.Ordinal);
        Assert.Contains("to take 2 attempt(s), it took 1", Assert.Throws<DurableAssertionException>(() => history.AssertAttempts(Trip.DurableSteps.BookHotel, 2)).Message, StringComparison.Ordinal);
        Assert.Contains("Expected compensations [BookFlight], found [].", Assert.Throws<DurableAssertionException>(() => history.AssertCompensated(Trip.DurableSteps.BookFlight)).Message, StringComparison.Ordinal);
        Assert.Contains("Expected one call of step Call, found 0.", Assert.Throws<DurableAssertionException>(() => history.StepOf(Flaky.DurableSteps.Call)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentNullException>(() => history.CallsOf(null!));
    }

    [Fact]
    public async Task A_run_that_does_not_exist_or_a_blank_id_is_refused()
    {
        await using var host = await StartAsync();

        Assert.Equal("nope", (await Assert.ThrowsAsync<WorkflowNotFoundException>(() => host.GetHistoryAsync("nope"))).WorkflowId);
        await Assert.ThrowsAnyAsync<ArgumentException>(() => host.GetHistoryAsync(" "));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => host.GetHistoryAsync(null!));
    }
}
