using Durably.Runtime.Journal;
using Durably.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime.Tests.Replay;

/// <summary>
/// Cancellation, run unchanged on every store: the client's cancel is a durable flag; the engine stops the run at its
/// next durable operation — a running step's token fires, a loaded wait ends, an unloaded run is woken, a run no
/// worker claimed yet ends when first executed — and the run ends <see cref="WorkflowStatus.Cancelled"/> with the
/// reason; cancelling an ended run changes nothing and says so.
/// </summary>
public abstract class CancellationTests : StoreTestBase
{
    private readonly BodyLog _log = new();
    private readonly Gate _gate = new();

    private TestHost Host(string workerName = "cancel-worker")
    {
        var host = new TestHost(OpenStore(), d => d.AddWorkflow<Stoppable>().AddWorkflow<Patient>().AddWorkflow<Sleeper>().AddWorkflow<Tally>(),
            s => s.AddSingleton<TimeProvider>(Clock).AddSingleton(_log).AddSingleton(_gate).AddSingleton(new Instances()), workerName);
        return Track(host);
    }

    [Fact]
    public async Task Cancelling_a_running_step_fires_its_token_and_ends_the_run_Cancelled_before_the_next_step()
    {
        var host = Host();
        await host.Get<StoppableClient>().StartAsync("polite", "stop-1");
        var execution = host.Engine.ExecuteAsync("stop-1");
        await _gate.Arrived.WaitAsync(Wait.Timeout);

        Assert.Equal(CancelResult.Requested, await host.Client.CancelAsync("stop-1", "customer changed their mind"));

        await _gate.Cancelled.WaitAsync(Wait.Timeout);
        var result = await execution.WaitAsync(Wait.Timeout);
        Assert.Equal((ExecutionOutcome.Finished, WorkflowStatus.Cancelled), (result.Outcome, result.Status));
        Assert.Equal(new WorkflowError("System.OperationCanceledException", "customer changed their mind"), result.Error);
        Assert.Equal(["Step", "Hold"], _log.Runs.Select(r => r.StepId));

        // The cancelled step's outcome is unknown: its row stays an attempt, and no later operation was journaled.
        var journal = (await host.Store.LoadAsync("stop-1", default))!.Journal;
        Assert.Equal([(0L, JournalEntryState.Completed), (1L, JournalEntryState.Attempting)], journal.Select(e => (e.Sequence, e.State)));

        var failed = await Assert.ThrowsAsync<WorkflowFailedException>(() => host.Client.WaitForResultAsync<string>("stop-1").WaitAsync(Wait.Timeout));
        Assert.Equal((WorkflowStatus.Cancelled, "customer changed their mind"), (failed.Status, failed.Error!.Message));
        var info = (await host.Client.GetRunAsync("stop-1"))!;
        Assert.Equal((WorkflowStatus.Cancelled, "customer changed their mind"), (info.Status, info.CancelReason));
        Assert.Equal(CancelResult.AlreadyEnded, await host.Client.CancelAsync("stop-1", "again"));
    }

    [Fact]
    public async Task A_step_that_ignores_its_token_keeps_running_but_its_late_result_is_discarded()
    {
        var host = Host();
        var handle = await host.Get<StoppableClient>().StartAsync("stubborn", "stop-2");
        var execution = host.Engine.ExecuteAsync("stop-2");
        await _gate.Arrived.WaitAsync(Wait.Timeout);

        Assert.Equal(CancelResult.Requested, await handle.CancelAsync());
        Assert.Equal(WorkflowStatus.Cancelled, (await execution.WaitAsync(Wait.Timeout)).Status);

        _gate.Release();
        await _gate.Passed.WaitAsync(Wait.Timeout);
        var run = (await host.Store.LoadAsync("stop-2", default))!;
        Assert.Equal((WorkflowStatus.Cancelled, "Cancelled; no reason was given.", ""), (run.Run.Status, run.Run.Error!.Message, run.Run.CancelReason));
        Assert.Equal(JournalEntryState.Attempting, run.Journal[1].State);
        Assert.Equal(["Step", "Hold"], _log.Runs.Select(r => r.StepId));
    }

    [Fact]
    public async Task A_cancel_no_notification_announces_is_seen_at_the_next_lease_renewal()
    {
        var host = Host();
        // Another process: its own engine and client over the same storage; nothing tells this engine in-process.
        var other = Host("other-worker");
        await host.Get<StoppableClient>().StartAsync("polite", "stop-3");
        var execution = host.Engine.ExecuteAsync("stop-3");
        await _gate.Arrived.WaitAsync(Wait.Timeout);

        Assert.Equal(CancelResult.Requested, await other.Client.CancelAsync("stop-3", "from elsewhere"));
        // The renewal runs every third of the lease (a store with notifications may have stopped the run already); its
        // timer is armed once the execution has registered with the heartbeat, which may follow the body's start.
        await Clock.ArmedForAsync(Clock.GetUtcNow() + (DurableOptions.DefaultLeaseDuration / 3));
        Clock.Advance(DurableOptions.DefaultLeaseDuration / 3);

        var result = await execution.WaitAsync(Wait.Timeout);
        await _gate.Cancelled.WaitAsync(Wait.Timeout);
        Assert.Equal((WorkflowStatus.Cancelled, "from elsewhere"), (result.Status, result.Error!.Message));
        Assert.Equal(["Step", "Hold"], _log.Runs.Select(r => r.StepId));
    }

    [Fact]
    public async Task A_cancel_seen_at_a_journal_write_stops_the_run_there()
    {
        var host = Host();
        await host.Get<StoppableClient>().StartAsync("stubborn", "stop-4");
        var execution = host.Engine.ExecuteAsync("stop-4");
        await _gate.Arrived.WaitAsync(Wait.Timeout);

        // Recorded in the store only (as another process on a store without notifications would): the step finishes,
        // its outcome is journaled, and the write reports the cancel, so the last step never starts.
        Assert.Equal(CancelRequestOutcome.Requested, await host.Store.RequestCancelAsync("stop-4", "at the write", default));
        _gate.Release();

        var result = await execution.WaitAsync(Wait.Timeout);
        Assert.Equal((WorkflowStatus.Cancelled, "at the write"), (result.Status, result.Error!.Message));
        Assert.Equal(["Step", "Hold"], _log.Runs.Select(r => r.StepId));
        Assert.Equal(2, (await host.Store.LoadAsync("stop-4", default))!.Journal.Count);
    }

    [Fact]
    public async Task An_unloaded_waiting_run_is_woken_by_a_cancel_and_ends_Cancelled()
    {
        var host = Host();
        await host.Worker.StartAsync(CancellationToken.None);
        try
        {
            await host.Get<PatientClient>().StartAsync("order-5", "patient-5");
            await Wait.UntilAsync(async () => (await host.Store.GetRunAsync("patient-5", default))!.WakeAt is not null && host.Worker.RunsInProgress == 0, "run patient-5 was never unloaded");

            Assert.Equal(CancelResult.Requested, await host.Client.CancelAsync("patient-5", "no longer needed"));

            var failed = await Assert.ThrowsAsync<WorkflowFailedException>(() => host.Client.WaitForResultAsync<string>("patient-5").WaitAsync(Wait.Timeout));
            Assert.Equal((WorkflowStatus.Cancelled, "no longer needed"), (failed.Status, failed.Error!.Message));
            Assert.Equal(["Step"], _log.Runs.Select(r => r.StepId));
            Assert.Null((await host.Store.GetRunAsync("patient-5", default))!.WakeAt);
        }
        finally
        {
            await host.Worker.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_loaded_sleep_is_cancelled_without_waiting_for_its_timer()
    {
        var host = Host();
        await host.Get<SleeperClient>().StartAsync(TimeSpan.FromSeconds(10), "nap-5");
        var execution = host.Engine.ExecuteAsync("nap-5");
        await Wait.UntilAsync(async () => (await host.Store.LoadAsync("nap-5", default))!.Journal.Any(e => e.Kind == OperationKind.Timer), "run nap-5 never journaled its timer");

        Assert.Equal(CancelResult.Requested, await host.Client.CancelAsync("nap-5", "wake up"));

        var result = await execution.WaitAsync(Wait.Timeout);
        Assert.Equal((WorkflowStatus.Cancelled, "wake up"), (result.Status, result.Error!.Message));
        Assert.Equal(["Mark"], _log.Runs.Select(r => r.StepId));
        Assert.Equal(JournalEntryState.Attempting, (await host.Store.LoadAsync("nap-5", default))!.Journal[1].State);
    }

    [Fact]
    public async Task A_run_no_worker_claimed_yet_ends_Cancelled_when_first_executed_without_running_anything()
    {
        var host = Host();
        await host.Get<SleeperClient>().StartAsync(TimeSpan.FromHours(1), "nap-6");

        Assert.Equal(CancelResult.Requested, await host.Client.CancelAsync("nap-6", "before it began"));
        Assert.Equal(CancelResult.AlreadyRequested, await host.Client.CancelAsync("nap-6", "twice; the first reason stands"));
        var result = await host.Engine.ExecuteAsync("nap-6").WaitAsync(Wait.Timeout);

        Assert.Equal((ExecutionOutcome.Finished, WorkflowStatus.Cancelled, "before it began"), (result.Outcome, result.Status, result.Error!.Message));
        Assert.Empty(_log.Runs);
        Assert.Empty((await host.Store.LoadAsync("nap-6", default))!.Journal);
    }

    [Fact]
    public async Task Cancelling_an_ended_run_changes_nothing_and_says_so_and_bad_requests_are_refused_by_name()
    {
        var host = Host();
        await host.Get<PatientClient>().StartAsync("order-7", "patient-7");
        await host.Client.SignalAsync("patient-7", "go", "now");
        Assert.Equal(WorkflowStatus.Completed, (await host.Engine.ExecuteAsync("patient-7").WaitAsync(Wait.Timeout)).Status);

        Assert.Equal(CancelResult.AlreadyEnded, await host.Client.CancelAsync("patient-7", "too late"));
        var info = (await host.Client.GetRunAsync("patient-7"))!;
        Assert.Equal((WorkflowStatus.Completed, null), (info.Status, info.CancelReason));
        Assert.Equal("order-7 went with now", await host.Client.WaitForResultAsync<string>("patient-7"));

        var missing = await Assert.ThrowsAsync<WorkflowNotFoundException>(() => host.Client.CancelAsync("no-such-run"));
        Assert.Contains("'no-such-run'", missing.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => (object)host.Client.CancelAsync("", "x").GetAwaiter().GetResult());
        Assert.Throws<ArgumentNullException>(() => (object)host.Client.CancelAsync(null!, "x").GetAwaiter().GetResult());
        var huge = await Assert.ThrowsAsync<ArgumentException>(() => host.Client.CancelAsync("patient-7", new string('x', DurableOptions.MaxCancelReasonLength + 1)));
        Assert.Contains($"{DurableOptions.MaxCancelReasonLength + 1} characters long; the limit is {DurableOptions.MaxCancelReasonLength}", huge.Message, StringComparison.Ordinal);

        var nul = await Assert.ThrowsAsync<ArgumentException>(() => host.Client.CancelAsync("patient-7", "stop\0here"));
        Assert.Contains("contains U+0000 at position 4", nul.Message, StringComparison.Ordinal);
        var lone = await Assert.ThrowsAsync<ArgumentException>(() => host.Client.CancelAsync("patient-7", "stop\uDC00here"));
        Assert.Contains("contains a lone UTF-16 surrogate U+DC00 at position 4", lone.Message, StringComparison.Ordinal);

        // A hostile reason is kept verbatim, at the limit.
        const string hostile = "'); DELETE FROM runs; -- \u0007\r\n\u2603";
        var reason = hostile + new string('r', DurableOptions.MaxCancelReasonLength - hostile.Length);
        await host.Get<PatientClient>().StartAsync("order-8", "patient-8");
        Assert.Equal(CancelResult.Requested, await host.Client.CancelAsync("patient-8", reason));
        var result = await host.Engine.ExecuteAsync("patient-8").WaitAsync(Wait.Timeout);
        Assert.Equal((WorkflowStatus.Cancelled, reason), (result.Status, result.Error!.Message));
        Assert.Equal(reason, (await host.Client.GetRunAsync("patient-8"))!.CancelReason);
    }

    [Fact]
    public async Task A_cancel_sent_to_a_run_that_continued_as_new_reaches_the_newest_run()
    {
        var host = Host();
        await host.Worker.StartAsync(CancellationToken.None);
        try
        {
            await host.Get<TallyClient>().StartAsync(new TallyState(0, 2), "tally-9");
            await Wait.UntilAsync(async () => (await host.Store.GetRunAsync("tally-9~2", default)) is { WakeAt: not null } && host.Worker.RunsInProgress == 0, "run tally-9~2 was never unloaded");

            Assert.Equal(CancelResult.Requested, await host.Client.CancelAsync("tally-9", "enough"));

            var failed = await Assert.ThrowsAsync<WorkflowFailedException>(() => host.Client.WaitForResultAsync<int>("tally-9").WaitAsync(Wait.Timeout));
            Assert.Equal(("tally-9~2", WorkflowStatus.Cancelled), (failed.WorkflowId, failed.Status));
            Assert.Equal(WorkflowStatus.ContinuedAsNew, (await host.Client.GetRunAsync("tally-9"))!.Status);
            Assert.Null((await host.Client.GetRunAsync("tally-9"))!.CancelReason);
        }
        finally
        {
            await host.Worker.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Any_exception_message_is_journaled_in_a_form_every_store_keeps()
    {
        // Not cancellation: the same free-text path (a journaled error) with hostile and huge values, on every store.
        var host = Track(new TestHost(OpenStore(), d => d.AddWorkflow<Thrower>(), s => s.AddSingleton<TimeProvider>(Clock)));
        var huge = new string('m', 100_000);
        await host.Get<ThrowerClient>().StartAsync("a\0b'); --", "nul");
        await host.Get<ThrowerClient>().StartAsync(huge, "huge");
        await host.Get<ThrowerClient>().StartAsync("", "empty");
        await host.Get<ThrowerClient>().StartAsync("half <lone> a pair, <lone><lone> twice", "lone");

        Assert.Equal(WorkflowStatus.Completed, (await host.Engine.ExecuteAsync("nul").WaitAsync(Wait.Timeout)).Status);
        Assert.Equal(WorkflowStatus.Completed, (await host.Engine.ExecuteAsync("huge").WaitAsync(Wait.Timeout)).Status);
        Assert.Equal(WorkflowStatus.Completed, (await host.Engine.ExecuteAsync("empty").WaitAsync(Wait.Timeout)).Status);
        Assert.Equal(WorkflowStatus.Completed, (await host.Engine.ExecuteAsync("lone").WaitAsync(Wait.Timeout)).Status);

        Assert.Equal("a\uFFFDb'); --", await host.Client.WaitForResultAsync<string>("nul"));
        Assert.Equal(huge[..8192] + "… (cut; 100000 characters in all)", await host.Client.WaitForResultAsync<string>("huge"));
        Assert.Equal("", await host.Client.WaitForResultAsync<string>("empty"));
        Assert.Equal("half \uFFFD a pair, \uFFFD\uFFFD twice", await host.Client.WaitForResultAsync<string>("lone"));
    }
}

public sealed class InMemoryCancellationTests : CancellationTests
{
    private protected override TestStorage CreateStorage() => TestStorage.InMemory(Clock);
}

public sealed class SqliteCancellationTests : CancellationTests
{
    private protected override TestStorage CreateStorage() => TestStorage.Sqlite(Clock);
}

public sealed class PostgresCancellationTests(PostgresDatabase database) : CancellationTests, IClassFixture<PostgresDatabase>
{
    private protected override TestStorage CreateStorage() => TestStorage.Postgres(database, Clock, "cancel");
}
