using Durably.Runtime.Journal;
using Durably.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime.Tests.Replay;

/// <summary>
/// Unloading, run unchanged on every store: a run that only waits, longer than the threshold, is released and dropped
/// from memory (its workflow object is collected), and is resumed by replay when its wait ends or a signal arrives —
/// by an execution started by hand or by the hosted worker; a short wait stays loaded.
/// </summary>
public abstract class UnloadTests : StoreTestBase
{
    private readonly BodyLog _log = new();
    private readonly Instances _instances = new();

    private TestHost Host(Action<DurableOptions>? options = null)
    {
        var host = new TestHost(OpenStore(), d => d.AddWorkflow<Patient>().AddWorkflow<Sleeper>().AddWorkflow<ApprovalFlow>(),
            s => s.AddSingleton<TimeProvider>(Clock).AddSingleton(_log).AddSingleton(_instances), workerName: "unload-worker", options: options);
        return Track(host);
    }

    [Fact]
    public async Task Runs_waiting_for_a_signal_are_unloaded_without_piling_up_in_memory_and_a_signal_resumes_one_by_replay()
    {
        var host = Host();
        await host.Get<PatientClient>().StartAsync("order-1", "patient-1");

        var first = await host.Engine.ExecuteAsync("patient-1").WaitAsync(Wait.Timeout);

        Assert.Equal((ExecutionOutcome.Unloaded, WorkflowStatus.Running), (first.Outcome, first.Status));
        var unloaded = (await host.Store.GetRunAsync("patient-1", default))!;
        Assert.Equal((null, RunRecord.WakeOnSignalOnly), (unloaded.Owner, unloaded.WakeAt));
        Assert.Equal(OperationKind.Signal, (await host.Store.LoadAsync("patient-1", default))!.Journal[1].Kind);
        Assert.Empty(await host.Store.ListClaimableAsync("anyone", null, 10, default));

        // More runs unload the same way; none accumulates in memory. (On PostgreSQL the last execution can stay reachable
        // from a pooled Npgsql connection until that connection is used again: one, never one per run.)
        foreach (var other in new[] { "patient-1b", "patient-1c" })
        {
            await host.Get<PatientClient>().StartAsync("order-1", other);
            Assert.Equal(ExecutionOutcome.Unloaded, (await host.Engine.ExecuteAsync(other).WaitAsync(Wait.Timeout)).Outcome);
        }

        Assert.Equal(3, _instances.Created);
        // A loaded machine may still be running the last execution's final continuations for a moment: poll, don't race.
        await Wait.UntilAsync(() => Task.FromResult(_instances.Alive() <= 1), "the unloaded runs' workflow objects were never collected");

        Assert.True(await host.Client.SignalAsync("patient-1", "go", "green"));
        Assert.Equal(["patient-1"], await host.Store.ListClaimableAsync("anyone", null, 10, default));
        var second = await host.Engine.ExecuteAsync("patient-1").WaitAsync(Wait.Timeout);

        Assert.Equal(WorkflowStatus.Completed, second.Status);
        Assert.Equal("order-1 went with green", await host.Client.WaitForResultAsync<string>("patient-1"));
        Assert.Equal([0L, 0L, 0L, 2L], _log.Runs.Select(r => r.Sequence));
        Assert.Equal(4, _instances.Created);
    }

    [Fact]
    public async Task The_worker_frees_the_slot_of_an_unloaded_run_and_resumes_it_when_signalled()
    {
        var host = Host();
        await host.Worker.StartAsync(CancellationToken.None);
        try
        {
            await host.Get<PatientClient>().StartAsync("order-2", "patient-2");
            await Wait.UntilAsync(async () => (await host.Store.GetRunAsync("patient-2", default))!.WakeAt is not null && host.Worker.RunsInProgress == 0, "run patient-2 was never unloaded");

            await host.Client.SignalAsync("patient-2", "go", "now");

            Assert.Equal("order-2 went with now", await host.Client.WaitForResultAsync<string>("patient-2").WaitAsync(Wait.Timeout));
            Assert.InRange(_instances.Alive(), 0, 1);
        }
        finally
        {
            await host.Worker.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_long_sleep_is_unloaded_and_the_worker_wakes_it_at_the_journaled_time_and_not_before()
    {
        var host = Host();
        var started = Clock.GetUtcNow();
        await host.Worker.StartAsync(CancellationToken.None);
        try
        {
            await host.Get<SleeperClient>().StartAsync(TimeSpan.FromHours(1), "nap-1");
            await Wait.UntilAsync(async () => (await host.Store.GetRunAsync("nap-1", default))!.WakeAt == started.AddHours(1) && host.Worker.RunsInProgress == 0, "run nap-1 was never unloaded with its wake time");
            Assert.Equal(started.AddHours(1), await host.Store.GetNextWakeAsync(default));

            Clock.Advance(TimeSpan.FromMinutes(59));
            await Task.Delay(200);
            Assert.Equal(WorkflowStatus.Running, (await host.Store.GetRunAsync("nap-1", default))!.Status);
            Assert.Equal(["Mark"], _log.Runs.Select(r => r.StepId));

            Clock.Advance(TimeSpan.FromMinutes(1));

            Assert.Equal("slept 01:00:00", await host.Client.WaitForResultAsync<string>("nap-1").WaitAsync(Wait.Timeout));
            Assert.Equal(started.AddHours(1), (await host.Store.LoadAsync("nap-1", default))!.Journal[1].CompletedAt);
            Assert.Equal([0L, 2L], _log.Runs.Select(r => r.Sequence));
        }
        finally
        {
            await host.Worker.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task An_unloaded_signal_wait_times_out_at_its_journaled_deadline()
    {
        var host = Host();
        var started = Clock.GetUtcNow();
        await host.Get<ApprovalFlowClient>().StartAsync("order-3", "deadline-1");

        Assert.Equal(ExecutionOutcome.Unloaded, (await host.Engine.ExecuteAsync("deadline-1").WaitAsync(Wait.Timeout)).Outcome);
        Assert.Equal(started.AddHours(1), (await host.Store.GetRunAsync("deadline-1", default))!.WakeAt);

        // Due: the first wait times out on replay, the second starts its own hour, and the run unloads again.
        Clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(ExecutionOutcome.Unloaded, (await host.Engine.ExecuteAsync("deadline-1").WaitAsync(Wait.Timeout)).Outcome);
        Assert.Equal(started.AddHours(2), (await host.Store.GetRunAsync("deadline-1", default))!.WakeAt);
        await host.Client.SignalAsync("deadline-1", "approve", new Decision("ada", true));

        Assert.Equal(WorkflowStatus.Completed, (await host.Engine.ExecuteAsync("deadline-1").WaitAsync(Wait.Timeout)).Status);
        Assert.Equal("timed out|ada:True", await host.Client.WaitForResultAsync<string>("deadline-1"));
    }

    [Fact]
    public async Task A_wait_shorter_than_the_threshold_stays_loaded()
    {
        var host = Host();
        // 12 s: shorter than the 30 s threshold, and a due time no lease renewal (every 10 s) shares.
        await host.Get<SleeperClient>().StartAsync(TimeSpan.FromSeconds(12), "nap-2");

        var wakeAt = Clock.GetUtcNow() + TimeSpan.FromSeconds(12);
        var execution = host.Engine.ExecuteAsync("nap-2");
        // Its timer armed in memory: the run is waiting loaded (had it unloaded, the execution would end Unloaded).
        await Clock.ArmedForAsync(wakeAt);

        Assert.False(execution.IsCompleted);
        Assert.Equal(("unload-worker", null), ((await host.Store.GetRunAsync("nap-2", default))!.Owner, (await host.Store.GetRunAsync("nap-2", default))!.WakeAt));
        Clock.Advance(TimeSpan.FromSeconds(12));
        Assert.Equal((ExecutionOutcome.Finished, WorkflowStatus.Completed), ((await execution.WaitAsync(Wait.Timeout)).Outcome, (await execution).Status));
    }

    [Fact]
    public async Task With_unloading_off_a_waiting_run_stays_in_memory_until_its_signal()
    {
        var host = Host(o => o.UnloadThreshold = Timeout.InfiniteTimeSpan);
        await host.Get<PatientClient>().StartAsync("order-4", "patient-4");

        var execution = host.Engine.ExecuteAsync("patient-4");
        await Wait.UntilAsync(async () => (await host.Store.LoadAsync("patient-4", default))!.Journal.Any(e => e.Kind == OperationKind.Signal), "run patient-4 never journaled its signal wait");
        await Clock.ArmedForAsync(Clock.GetUtcNow() + DurableOptions.DefaultPollInterval);

        // The same measurement that finds nothing left of an unloaded run finds this one's workflow object.
        Assert.False(execution.IsCompleted);
        Assert.Equal(1, _instances.Alive());
        await host.Client.SignalAsync("patient-4", "go", "at last");
        Assert.Equal(WorkflowStatus.Completed, (await execution.WaitAsync(Wait.Timeout)).Status);
    }
}

public sealed class InMemoryUnloadTests : UnloadTests
{
    private protected override TestStorage CreateStorage() => TestStorage.InMemory(Clock);
}

public sealed class SqliteUnloadTests : UnloadTests
{
    private protected override TestStorage CreateStorage() => TestStorage.Sqlite(Clock);
}

public sealed class PostgresUnloadTests(PostgresDatabase database) : UnloadTests, IClassFixture<PostgresDatabase>
{
    private protected override TestStorage CreateStorage() => TestStorage.Postgres(database, Clock, "unload");
}
