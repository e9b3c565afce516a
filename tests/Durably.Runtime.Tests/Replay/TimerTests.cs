using Durably.Runtime.Journal;
using Durably.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime.Tests.Replay;

/// <summary>
/// Durable timers, run unchanged on every store: the wake time is journaled when the timer is first reached, the run
/// goes on at that time by the engine's clock and not before, and a restart — before or after the wake time — keeps
/// the journaled time rather than starting the wait again.
/// </summary>
public abstract class TimerTests : StoreTestBase
{

    // These tests drive executions by hand and watch timers in memory; unloaded timers are UnloadTests' subject.
    private TestHost Host(BodyLog log, string worker = "timer-worker")
    {
        var host = new TestHost(OpenStore(), d => d.AddWorkflow<Sleeper>().AddWorkflow<AlarmClock>(),
            s => s.AddSingleton<TimeProvider>(Clock).AddSingleton(log), workerName: worker, options: o => o.UnloadThreshold = Timeout.InfiniteTimeSpan);
        return Track(host);
    }

    [Fact]
    public async Task A_sleep_journals_its_wake_time_and_the_run_goes_on_at_that_time_and_not_before()
    {
        var log = new BodyLog();
        var host = Host(log);
        var started = Clock.GetUtcNow();
        await host.Get<SleeperClient>().StartAsync(TimeSpan.FromHours(1), "sleep-1");
        var execution = host.Engine.ExecuteAsync("sleep-1");
        var timer = await PendingTimerAsync(host.Store, "sleep-1");

        Assert.Equal(OperationKind.Timer, timer.Kind);
        Assert.Equal("sleep", timer.OperationId);
        Assert.Equal($"\"{started.AddHours(1):yyyy-MM-ddTHH:mm:ss}+00:00\"", timer.InputJson);

        // The timer is armed for the wake time; a minute before it, it is still armed: it did not fire, the run waits.
        await Clock.ArmedForAsync(started.AddHours(1));
        Clock.Advance(TimeSpan.FromMinutes(59));
        Assert.True(Clock.IsArmedFor(started.AddHours(1)));
        Assert.False(execution.IsCompleted);
        Assert.Equal(["Mark"], log.Runs.Select(r => r.StepId));

        Clock.Advance(TimeSpan.FromMinutes(1));
        var result = await execution.WaitAsync(Wait.Timeout);

        Assert.Equal(WorkflowStatus.Completed, result.Status);
        Assert.Equal("slept 01:00:00", await host.Client.WaitForResultAsync<string>("sleep-1"));
        var journal = (await host.Store.LoadAsync("sleep-1", default))!.Journal;
        Assert.Equal([OperationKind.Step, OperationKind.Timer, OperationKind.Step], journal.Select(e => e.Kind));
        Assert.Equal(started.AddHours(1), journal[1].CompletedAt);
        Assert.Equal(2, log.Runs.Count);
    }

    [Fact]
    public async Task A_restarted_worker_keeps_the_journaled_wake_time_instead_of_sleeping_again()
    {
        var firstLog = new BodyLog();
        var first = Host(firstLog, "first");
        var started = Clock.GetUtcNow();
        await first.Get<SleeperClient>().StartAsync(TimeSpan.FromHours(1), "sleep-2");
        await StopAtTimerAsync(first, "sleep-2", advance: TimeSpan.FromMinutes(40));

        // Another worker resumes the run 40 minutes into its sleep: it wakes 20 minutes later, at the journaled time.
        var secondLog = new BodyLog();
        var second = Host(secondLog, "second");
        var resumed = second.Engine.ExecuteAsync("sleep-2");
        await Clock.ArmedForAsync(started.AddHours(1));
        Clock.Advance(TimeSpan.FromMinutes(19));
        Assert.True(Clock.IsArmedFor(started.AddHours(1)));
        Assert.False(resumed.IsCompleted);
        Clock.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(WorkflowStatus.Completed, (await resumed.WaitAsync(Wait.Timeout)).Status);
        Assert.Equal(started.AddHours(1), (await second.Store.LoadAsync("sleep-2", default))!.Journal[1].CompletedAt);
        Assert.Equal(["Mark"], firstLog.Runs.Select(r => r.StepId));
        Assert.Equal([2L], secondLog.Runs.Select(r => r.Sequence));
    }

    [Fact]
    public async Task A_run_resumed_after_its_wake_time_goes_on_at_once()
    {
        var first = Host(new BodyLog(), "first");
        await first.Get<SleeperClient>().StartAsync(TimeSpan.FromMinutes(5), "sleep-3");
        await StopAtTimerAsync(first, "sleep-3", advance: TimeSpan.Zero);
        Clock.Advance(TimeSpan.FromDays(3));

        var second = Host(new BodyLog(), "second");

        Assert.Equal(WorkflowStatus.Completed, (await second.Engine.ExecuteAsync("sleep-3").WaitAsync(Wait.Timeout)).Status);
        Assert.Equal("slept 3.00:00:00", await second.Client.WaitForResultAsync<string>("sleep-3"));
    }

    [Fact]
    public async Task SleepUntil_journals_the_given_time_and_a_past_time_fires_at_once()
    {
        var host = Host(new BodyLog());
        var past = Clock.GetUtcNow().AddDays(-1);
        await host.Get<AlarmClockClient>().StartAsync(past, "alarm-1");

        Assert.Equal(WorkflowStatus.Completed, (await host.Engine.ExecuteAsync("alarm-1").WaitAsync(Wait.Timeout)).Status);
        var timer = (await host.Store.LoadAsync("alarm-1", default))!.Journal.Single();
        Assert.Equal(OperationKind.Timer, timer.Kind);
        Assert.Equal(past, new Durably.Runtime.Engine.PayloadSerializer(new(), 1024).Deserialize<DateTimeOffset>(timer.InputJson!, "wake time"));
        Assert.Equal(Clock.GetUtcNow(), await host.Client.WaitForResultAsync<DateTimeOffset>("alarm-1"));
    }

    [Theory]
    [InlineData(-1L, "needs a delay of zero or more, not -00:00:00.0000001")]
    [InlineData(long.MaxValue, "would wake after 9999-12-31T23:59:59.9999999+00:00")]
    public async Task A_negative_or_unrepresentable_delay_fails_the_run_naming_it(long ticks, string message)
    {
        var host = Host(new BodyLog());
        await host.Get<SleeperClient>().StartAsync(TimeSpan.FromTicks(ticks), $"bad-sleep-{ticks}");

        var result = await host.Engine.ExecuteAsync($"bad-sleep-{ticks}").WaitAsync(Wait.Timeout);

        Assert.Equal(WorkflowStatus.Failed, result.Status);
        Assert.Equal(typeof(ArgumentOutOfRangeException).FullName, result.Error!.Type);
        Assert.Contains(message, result.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_timer_where_the_journal_has_a_step_is_non_determinism_naming_both()
    {
        var host = Host(new BodyLog());
        await host.Get<SleeperClient>().StartAsync(TimeSpan.Zero, "swap-1");
        await host.Engine.ExecuteAsync("swap-1").WaitAsync(Wait.Timeout);
        var swapped = await TestHost.CloneAsRunningAsync(host.Store, "swap-1",
            e => e.Sequence == 1 ? e with { Kind = OperationKind.Step, OperationId = "Mark", InputJson = "{\"what\":\"x\"}" } : e);
        await using var replay = new TestHost(swapped, d => d.AddWorkflow<Sleeper>(), s => s.AddSingleton(new BodyLog()));

        var result = await replay.Engine.ExecuteAsync("swap-1").WaitAsync(Wait.Timeout);

        Assert.Equal(WorkflowStatus.DeadLettered, result.Status);
        Assert.Contains("at sequence 1 the run method called a durable timer (Workflow.SleepAsync), but the journal recorded step 'Mark'", result.Error!.Message, StringComparison.Ordinal);
    }

    /// <summary>Executes a run until it waits on its timer, moves the clock on, and stops the execution (as a shutdown would).</summary>
    private async Task StopAtTimerAsync(TestHost host, string workflowId, TimeSpan advance)
    {
        using var stop = new CancellationTokenSource();
        var execution = host.Engine.ExecuteAsync(workflowId, stop.Token);
        await PendingTimerAsync(host.Store, workflowId);
        Clock.Advance(advance);
        await stop.CancelAsync();
        Assert.Equal(ExecutionOutcome.Abandoned, (await execution.WaitAsync(Wait.Timeout)).Outcome);
    }

    private static Task<JournalEntry> PendingTimerAsync(IWorkflowStore store, string workflowId)
        => Wait.UntilAsync(
            async () => (await store.LoadAsync(workflowId, default))?.Journal.FirstOrDefault(e => e.Kind == OperationKind.Timer),
            $"run {workflowId} never reached its timer");
}

public sealed class InMemoryTimerTests : TimerTests
{
    private protected override TestStorage CreateStorage() => TestStorage.InMemory(Clock);
}

public sealed class SqliteTimerTests : TimerTests
{
    private protected override TestStorage CreateStorage() => TestStorage.Sqlite(Clock);
}

public sealed class PostgresTimerTests(PostgresDatabase database) : TimerTests, IClassFixture<PostgresDatabase>
{
    private protected override TestStorage CreateStorage() => TestStorage.Postgres(database, Clock, "timers");
}
