using Durably.Runtime;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Testing.Tests;

public sealed class CrashTests
{
    private static readonly DateTimeOffset s_start = new DurableTestHostOptions().StartTime;

    private static Task<DurableTestHost> StartAsync(TripLog log)
        => DurableTestHost.StartAsync(w => w.AddWorkflow<Trip>().AddWorkflow<LongSleep>(), s => s.AddSingleton(log));

    [Fact]
    public async Task A_crash_after_the_body_before_its_journal_write_runs_the_body_again_with_the_same_key()
    {
        var log = new TripLog();
        await using var host = await StartAsync(log);
        var hotel = host.Substitute(Trip.DurableSteps.BookHotel);
        host.CrashAt(Trip.DurableSteps.BookHotel, CrashPoint.AfterStepBody);
        var handle = await host.GetRequiredService<TripClient>().StartAsync("ann", "trip-ann");

        await host.CrashAsync();

        Assert.True(host.IsCrashed);
        var before = await host.GetHistoryAsync("trip-ann");
        // The hotel's body ran, but nothing says it finished: its substitute returned before it yielded, so it had no
        // attempting row (its outcome would have been its one write), and the crash came before that write.
        Assert.Empty(before.CallsOf(Trip.DurableSteps.BookHotel));
        before.AssertStepsCompleted(Trip.DurableSteps.BookFlight);

        await host.RestartAsync();

        Assert.Equal("FL-ann + HO-ann", await host.WaitForResultAsync(handle));
        // The hotel's body ran twice — once before the crash, once after — under one idempotency key; the flight's once.
        Assert.Equal(["flight for ann", "hotel for ann", "hotel for ann"], log.Entries);
        Assert.Equal(2, hotel.Calls.Count);
        Assert.Single(hotel.Calls.Select(c => c.IdempotencyKey).Distinct());
        var after = await host.GetHistoryAsync("trip-ann");
        after.AssertStatus(WorkflowStatus.Completed).AssertStepsCompleted(Trip.DurableSteps.BookFlight, Trip.DurableSteps.BookHotel);
        Assert.Contains(after.Alerts, a => a.Kind == DurableAlertKind.RunRecovered);
    }

    [Fact]
    public async Task A_crash_before_the_body_runs_it_once_after_the_restart()
    {
        var log = new TripLog();
        await using var host = await StartAsync(log);
        host.CrashAt(Trip.DurableSteps.BookHotel, CrashPoint.BeforeStepBody);
        var handle = await host.GetRequiredService<TripClient>().StartAsync("bo");

        await host.CrashAsync();
        Assert.Equal(["flight for bo"], log.Entries);
        await host.RestartAsync();

        Assert.Equal("FL-bo + HO-bo", await host.WaitForResultAsync(handle));
        Assert.Equal(["flight for bo", "hotel for bo"], log.Entries);
    }

    [Fact]
    public async Task A_crash_after_the_outcome_is_journaled_does_not_run_the_body_again()
    {
        var log = new TripLog();
        await using var host = await StartAsync(log);
        host.CrashAt(Trip.DurableSteps.BookFlight, CrashPoint.AfterStepJournaled);
        var handle = await host.GetRequiredService<TripClient>().StartAsync("cy", "trip-cy");

        await host.CrashAsync();
        (await host.GetHistoryAsync("trip-cy")).AssertStepsCompleted(Trip.DurableSteps.BookFlight);
        await host.RestartAsync();

        Assert.Equal("FL-cy + HO-cy", await host.WaitForResultAsync(handle));
        Assert.Equal(["flight for cy", "hotel for cy"], log.Entries);
    }

    [Fact]
    public async Task A_crash_at_once_while_a_run_sleeps_loses_nothing_and_the_run_wakes_on_time()
    {
        await using var host = await StartAsync(new TripLog());
        var handle = await host.GetRequiredService<LongSleepClient>().StartAsync(20);
        var hotel = host.Substitute(Trip.DurableSteps.BookHotel).Throws(new TimeoutException("full"), attempts: 1);
        var trip = await host.GetRequiredService<TripClient>().StartAsync("di");

        await host.CrashAsync();
        await host.RestartAsync();

        Assert.Equal(s_start.AddDays(20), await host.WaitForResultAsync(handle));
        Assert.Equal("FL-di + HO-di", await host.WaitForResultAsync(trip));
        // The substitute followed the restart: attempt 1 failed, attempt 2 ran the real body.
        Assert.Equal([1, 2], hotel.Calls.Select(c => c.Attempt));
    }

    [Fact]
    public async Task A_restart_without_a_crash_stops_the_engine_as_an_application_does_and_goes_on()
    {
        await using var host = await StartAsync(new TripLog());
        var handle = await host.GetRequiredService<LongSleepClient>().StartAsync(2);

        await host.RestartAsync();
        await host.RestartAsync();

        Assert.False(host.IsCrashed);
        Assert.Equal(s_start.AddDays(2), await host.WaitForResultAsync(handle));
    }

    [Fact]
    public async Task Crashes_out_of_order_are_refused_with_what_to_do()
    {
        await using var host = await StartAsync(new TripLog());

        Assert.Throws<ArgumentNullException>(() => host.CrashAt(null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => host.CrashAt(Trip.DurableSteps.BookHotel, (CrashPoint)42));

        host.CrashAt(Trip.DurableSteps.BookHotel);
        Assert.Contains("A crash is armed already, at AfterStepBody of step BookHotel", Assert.Throws<InvalidOperationException>(() => host.CrashAt(Trip.DurableSteps.BookFlight)).Message, StringComparison.Ordinal);

        // Armed, but no run calls the step.
        var timeout = await Assert.ThrowsAsync<TimeoutException>(() => host.CrashAsync(TimeSpan.FromMilliseconds(200)));
        Assert.StartsWith("No run reached AfterStepBody of step BookHotel within 0.2 s", timeout.Message, StringComparison.Ordinal);

        var handle = await host.GetRequiredService<TripClient>().StartAsync("eve");
        await host.CrashAsync();
        Assert.Contains("call RestartAsync", (await Assert.ThrowsAsync<InvalidOperationException>(() => host.CrashAsync())).Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => host.CrashAt(Trip.DurableSteps.BookHotel));

        await host.RestartAsync();
        Assert.Equal("FL-eve + HO-eve", await host.WaitForResultAsync(handle));
    }
}
