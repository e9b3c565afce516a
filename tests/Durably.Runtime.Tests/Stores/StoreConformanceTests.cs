using System.Globalization;
using Durably.Runtime.Journal;
using Durably.Runtime.Stores;
using Durably.Runtime.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime.Tests.Stores;

/// <summary>
/// The store conformance suite: written once, run unchanged against every store. A store passes when runs and
/// journals behave identically to the in-memory reference: idempotent creation, write-once terminal rows, one-read
/// replay, lease expiry and takeover, fencing of an old owner, and a single winner among concurrent claimers.
/// </summary>
public abstract partial class StoreConformanceTests : IDisposable
{
    private static readonly TimeSpan s_lease = TimeSpan.FromSeconds(30);
    private readonly List<IDisposable> _stores = [];

    private protected ManualTimeProvider Clock { get; } = new(DateTimeOffset.Parse("2026-11-21T10:00:00Z", CultureInfo.InvariantCulture));

    /// <summary>A store over fresh, empty storage. Calls with the same <paramref name="name"/> share that storage, as two processes would.</summary>
    protected abstract IWorkflowStore CreateStore(string name = "main");

    private protected T Track<T>(T store)
        where T : IWorkflowStore
    {
        if (store is IDisposable disposable)
        {
            _stores.Add(disposable);
        }

        return store;
    }

    [Fact]
    public async Task Creating_a_run_twice_keeps_the_first()
    {
        var store = CreateStore();
        var first = NewRun("run-1", "{\"a\":1}");

        var (created, isNew) = await store.CreateRunAsync(first, default);
        var (again, isNewAgain) = await store.CreateRunAsync(first with { InputJson = "{\"a\":2}", WorkflowName = "Other" }, default);

        Assert.True(isNew);
        Assert.False(isNewAgain);
        Assert.Equal(first, created);
        Assert.Equal(first, again);
        Assert.Equal(first, await store.GetRunAsync("run-1", default));
        Assert.Null(await store.GetRunAsync("run-2", default));
        Assert.Null(await store.LoadAsync("run-2", default));
    }

    [Fact]
    public async Task A_terminal_row_is_written_once_per_run_and_sequence()
    {
        var store = CreateStore();
        await store.CreateRunAsync(NewRun("run-1"), default);
        var lease = (await store.TryClaimAsync("run-1", "w", s_lease, default))!;
        var attempt = Attempting("run-1", 0);

        var first = await store.RecordAttemptAsync(lease, attempt, JournalDurability.Durable, default);
        var second = await store.RecordAttemptAsync(lease, attempt, JournalDurability.Durable, default);
        var completed = await store.CompleteEntryAsync(lease, Completed(attempt, "\"one\"", 0), default);
        var late = await store.CompleteEntryAsync(lease, Completed(attempt, "\"two\"", 1), default);
        var afterTerminal = await store.RecordAttemptAsync(lease, attempt, JournalDurability.Durable, default);

        Assert.Equal(1, first.Entry!.Attempts);
        Assert.Equal(2, second.Entry!.Attempts);
        Assert.Equal("\"one\"", completed.Entry!.OutputJson);
        Assert.Equal("\"one\"", late.Entry!.OutputJson);
        Assert.Equal(0, late.Entry.CompletionIndex);
        Assert.True(afterTerminal.Entry!.IsTerminal);
        Assert.Equal(2, afterTerminal.Entry.Attempts);
        var journal = (await store.LoadAsync("run-1", default))!.Journal;
        var row = Assert.Single(journal);
        Assert.Equal(completed.Entry, row);
    }

    [Fact]
    public async Task A_run_loads_with_its_whole_journal_in_sequence_order()
    {
        var store = CreateStore();
        await store.CreateRunAsync(NewRun("run-1"), default);
        var lease = (await store.TryClaimAsync("run-1", "w", s_lease, default))!;
        foreach (var sequence in new long[] { 2, 0, 1 })
        {
            await store.RecordAttemptAsync(lease, Attempting("run-1", sequence), JournalDurability.Durable, default);
        }

        await store.CompleteEntryAsync(lease, Completed(Attempting("run-1", 1), "10", 0), default);
        await store.CompleteEntryAsync(lease, Attempting("run-1", 0) with { State = JournalEntryState.Failed, Error = new WorkflowError("System.TimeoutException", "slow"), CompletionIndex = 1, CompletedAt = Clock.GetUtcNow() }, default);

        var snapshot = (await store.LoadAsync("run-1", default))!;

        Assert.Equal([0L, 1, 2], snapshot.Journal.Select(e => e.Sequence));
        Assert.Equal([JournalEntryState.Failed, JournalEntryState.Completed, JournalEntryState.Attempting], snapshot.Journal.Select(e => e.State));
        Assert.Equal(new WorkflowError("System.TimeoutException", "slow"), snapshot.Journal[0].Error);
        Assert.Equal("{\"x\":1}", snapshot.Journal[2].InputJson);
        Assert.Equal(Clock.GetUtcNow(), snapshot.Journal[0].CompletedAt);
    }

    [Fact]
    public async Task A_held_run_is_taken_over_only_after_its_lease_expires_and_the_old_owner_is_fenced()
    {
        var store = CreateStore();
        await store.CreateRunAsync(NewRun("run-1"), default);
        var old = (await store.TryClaimAsync("run-1", "old", s_lease, default))!;
        await store.RecordAttemptAsync(old, Attempting("run-1", 0), JournalDurability.Durable, default);

        Assert.Null(await store.TryClaimAsync("run-1", "new", s_lease, default));
        Clock.Advance(s_lease + TimeSpan.FromSeconds(1));
        var taken = (await store.TryClaimAsync("run-1", "new", s_lease, default))!;

        Assert.True(taken.Epoch > old.Epoch);
        Assert.True((await store.RecordAttemptAsync(old, Attempting("run-1", 1), JournalDurability.Durable, default)).Fenced);
        Assert.True((await store.CompleteEntryAsync(old, Completed(Attempting("run-1", 0), "\"stale\"", 0), default)).Fenced);
        Assert.False(await store.CompleteRunAsync(old, new RunOutcome(WorkflowStatus.Completed, "\"stale\"", null), default));
        await store.ReleaseAsync(old, default);

        var run = (await store.LoadAsync("run-1", default))!;
        Assert.Equal("new", run.Run.Owner);
        Assert.Equal(WorkflowStatus.Running, run.Run.Status);
        Assert.Equal(JournalEntryState.Attempting, Assert.Single(run.Journal).State);
        Assert.False((await store.CompleteEntryAsync(taken, Completed(Attempting("run-1", 0), "\"fresh\"", 0), default)).Fenced);
    }

    [Fact]
    public async Task The_same_owner_reclaims_its_run_at_once_and_a_release_frees_it_for_others()
    {
        var store = CreateStore();
        await store.CreateRunAsync(NewRun("run-1"), default);
        var first = (await store.TryClaimAsync("run-1", "worker-a", s_lease, default))!;

        var reclaimed = (await store.TryClaimAsync("run-1", "worker-a", s_lease, default))!;
        Assert.True(reclaimed.Epoch > first.Epoch);
        Assert.True((await store.RecordAttemptAsync(first, Attempting("run-1", 0), JournalDurability.Durable, default)).Fenced);

        await store.ReleaseAsync(reclaimed, default);
        Assert.Null((await store.GetRunAsync("run-1", default))!.Owner);
        Assert.NotNull(await store.TryClaimAsync("run-1", "worker-b", s_lease, default));
    }

    [Fact]
    public async Task A_finished_run_cannot_be_claimed_or_written()
    {
        var store = CreateStore();
        await store.CreateRunAsync(NewRun("run-1"), default);
        var lease = (await store.TryClaimAsync("run-1", "w", s_lease, default))!;

        Assert.True(await store.CompleteRunAsync(lease, new RunOutcome(WorkflowStatus.Failed, null, new WorkflowError("E", "bad")), default));

        var run = (await store.GetRunAsync("run-1", default))!;
        Assert.Equal(WorkflowStatus.Failed, run.Status);
        Assert.Equal(new WorkflowError("E", "bad"), run.Error);
        Assert.Null(run.Owner);
        Assert.Null(await store.TryClaimAsync("run-1", "w", s_lease, default));
        Assert.True((await store.RecordAttemptAsync(lease, Attempting("run-1", 0), JournalDurability.Durable, default)).Fenced);
        Assert.False(await store.CompleteRunAsync(lease, new RunOutcome(WorkflowStatus.Completed, "1", null), default));
    }

    [Fact]
    public async Task Concurrent_claims_on_one_run_have_exactly_one_winner()
    {
        var store = CreateStore();
        var other = CreateStore();

        // Many rounds: a lost race is a matter of timing, so one round would let a rare double claim through.
        for (var round = 0; round < 25; round++)
        {
            var id = $"run-{round}";
            await store.CreateRunAsync(NewRun(id), default);

            var claims = await Task.WhenAll(Enumerable.Range(0, 16).Select(i =>
                Task.Run(() => (i % 2 == 0 ? store : other).TryClaimAsync(id, $"worker-{i}", s_lease, default))));

            var winner = Assert.Single(claims, c => c is not null);
            Assert.Equal(winner!.Owner, (await other.GetRunAsync(id, default))!.Owner);
        }
    }

    [Fact]
    public async Task Hostile_and_large_values_round_trip_verbatim()
    {
        var store = CreateStore();
        const string hostile = "'); DROP TABLE runs; -- \"☃\" \\ $id";
        var big = "\"" + new string('x', 200_000) + "\"";
        await store.CreateRunAsync(NewRun(hostile, big), default);
        var lease = (await store.TryClaimAsync(hostile, hostile, s_lease, default))!;
        await store.RecordAttemptAsync(lease, Attempting(hostile, 0) with { OperationId = hostile, InputJson = big }, JournalDurability.Durable, default);
        await store.CompleteEntryAsync(lease, Completed(Attempting(hostile, 0) with { OperationId = hostile, InputJson = big }, big, 0) with { Error = null }, default);

        var snapshot = (await store.LoadAsync(hostile, default))!;

        Assert.Equal(hostile, snapshot.Run.WorkflowId);
        Assert.Equal(big, snapshot.Run.InputJson);
        Assert.Equal(hostile, snapshot.Run.Owner);
        Assert.Equal(hostile, snapshot.Journal[0].OperationId);
        Assert.Equal(big, snapshot.Journal[0].OutputJson);
    }

    [Fact]
    public async Task The_engine_resumes_a_stopped_run_on_a_second_store_instance_without_rerunning_finished_steps()
    {
        var firstLog = new BodyLog();
        var closed = new Gate();
        await using (var first = new TestHost(CreateStore(), d => d.AddWorkflow<FiveSteps>(), s => s.AddSingleton(firstLog).AddSingleton(closed)))
        {
            await first.Get<FiveStepsClient>().StartAsync("order-9", "resume-1");
            Assert.Equal(ExecutionOutcome.Abandoned, (await first.ExecuteUntilAsync("resume-1", closed)).Outcome);
        }

        var secondLog = new BodyLog();
        var store = CreateStore();
        await using var second = new TestHost(store, d => d.AddWorkflow<FiveSteps>(), s => s.AddSingleton(secondLog).AddSingleton(Gate.Open()), workerName: "restarted");
        var result = await second.Engine.ExecuteAsync("resume-1").WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(WorkflowStatus.Completed, result.Status);
        Assert.DoesNotContain(secondLog.Runs, r => r.Sequence < 3);
        Assert.Equal(3, firstLog.Runs.Count(r => r.Sequence < 3));
        Assert.Equal(2, firstLog.Runs.Concat(secondLog.Runs).Count(r => r.Sequence == 3));
        var journal = (await store.LoadAsync("resume-1", default))!.Journal;
        Assert.Equal(5, journal.Count);
        Assert.All(journal, e => Assert.Equal(JournalEntryState.Completed, e.State));
    }

    [Fact]
    public async Task A_signal_is_accepted_once_per_id_and_refused_for_an_unknown_or_finished_run()
    {
        var store = CreateStore();
        await store.CreateRunAsync(NewRun("run-1"), default);

        Assert.Equal(SignalSendOutcome.Accepted, await store.AddSignalAsync(Signal("run-1", "s-1", "approve", "1"), default));
        Assert.Equal(SignalSendOutcome.Duplicate, await store.AddSignalAsync(Signal("run-1", "s-1", "approve", "2"), default));
        Assert.Equal(SignalSendOutcome.RunNotFound, await store.AddSignalAsync(Signal("run-2", "s-1", "approve", "1"), default));

        var lease = (await store.TryClaimAsync("run-1", "w", s_lease, default))!;
        await store.CompleteRunAsync(lease, new RunOutcome(WorkflowStatus.Completed, "1", null), default);

        Assert.Equal(SignalSendOutcome.RunFinished, await store.AddSignalAsync(Signal("run-1", "s-2", "approve", "1"), default));
        Assert.Equal(SignalSendOutcome.Duplicate, await store.AddSignalAsync(Signal("run-1", "s-1", "approve", "1"), default));
    }

    [Fact]
    public async Task Each_wait_takes_the_oldest_signal_of_its_name_and_each_signal_goes_to_one_wait()
    {
        const string hostile = "'); DROP TABLE signals; -- \"☃\"";
        var big = "\"" + new string('p', 100_000) + "\"";
        var store = CreateStore();
        await store.CreateRunAsync(NewRun("run-1"), default);
        var lease = (await store.TryClaimAsync("run-1", "w", s_lease, default))!;
        await store.AddSignalAsync(Signal("run-1", "a1", "approve", big), default);
        await store.AddSignalAsync(Signal("run-1", "b1", hostile, "\"b\""), default);
        Clock.Advance(TimeSpan.FromSeconds(1));
        await store.AddSignalAsync(Signal("run-1", "a2", "approve", "\"second\""), default);

        var first = await TakeAsync(store, lease, 0, "approve");
        var second = await TakeAsync(store, lease, 1, "approve");
        var none = await TakeAsync(store, lease, 2, "approve");
        var other = await TakeAsync(store, lease, 3, hostile);
        var again = await TakeAsync(store, lease, 0, "approve");

        Assert.Equal(big, first.Entry!.OutputJson);
        Assert.Equal(JournalEntryState.Completed, first.Entry.State);
        Assert.Equal(0, first.Entry.CompletionIndex);
        Assert.Equal("\"second\"", second.Entry!.OutputJson);
        Assert.False(none.Fenced);
        Assert.Null(none.Entry);
        Assert.Equal("\"b\"", other.Entry!.OutputJson);
        Assert.Equal(big, again.Entry!.OutputJson);

        // The wait that found nothing takes the next signal sent; the terminal wait 0 took nothing more.
        await store.AddSignalAsync(Signal("run-1", "a3", "approve", "\"third\""), default);
        Assert.Equal("\"third\"", (await TakeAsync(store, lease, 2, "approve")).Entry!.OutputJson);
        var journal = (await store.LoadAsync("run-1", default))!.Journal;
        Assert.Equal([big, "\"second\"", "\"third\"", "\"b\""], journal.Select(e => e.OutputJson));
    }

    [Fact]
    public async Task A_fenced_writer_or_a_wait_that_already_ended_takes_no_signal()
    {
        var store = CreateStore();
        await store.CreateRunAsync(NewRun("run-1"), default);
        var old = (await store.TryClaimAsync("run-1", "old", s_lease, default))!;
        await store.RecordAttemptAsync(old, Wait("run-1", 0), JournalDurability.Durable, default);
        await store.AddSignalAsync(Signal("run-1", "s-1", "approve", "\"yes\""), default);
        Clock.Advance(s_lease + TimeSpan.FromSeconds(1));
        var taken = (await store.TryClaimAsync("run-1", "new", s_lease, default))!;

        Assert.True((await store.TakeSignalAsync(old, Completed(Wait("run-1", 0), "ignored", 0), "approve", default)).Fenced);

        // Wait 0 timed out (terminal with no output): it keeps that outcome and leaves the signal for wait 1.
        await store.CompleteEntryAsync(taken, Wait("run-1", 0) with { State = JournalEntryState.Completed, CompletionIndex = 0, CompletedAt = Clock.GetUtcNow() }, default);
        var timedOut = await store.TakeSignalAsync(taken, Completed(Wait("run-1", 0), "ignored", 1), "approve", default);
        Assert.Null(timedOut.Entry!.OutputJson);
        Assert.Equal(0, timedOut.Entry.CompletionIndex);

        Assert.Equal("\"yes\"", (await TakeAsync(store, taken, 1, "approve")).Entry!.OutputJson);
    }

    [Fact]
    public async Task An_unloaded_run_is_claimable_once_due_or_signalled_and_a_claim_loads_it()
    {
        var store = CreateStore();
        var other = CreateStore();
        await store.CreateRunAsync(NewRun("timer-1"), default);
        await store.CreateRunAsync(NewRun("signal-1"), default);
        var timer = (await store.TryClaimAsync("timer-1", "w", s_lease, default))!;
        var signal = (await store.TryClaimAsync("signal-1", "w", s_lease, default))!;
        var wakeAt = Clock.GetUtcNow().AddHours(1);

        Assert.Equal(SuspendOutcome.Suspended, await store.SuspendAsync(timer, wakeAt, [], default));
        Assert.Equal(SuspendOutcome.Suspended, await store.SuspendAsync(signal, RunRecord.WakeOnSignalOnly, ["approve", "it's; DROP TABLE runs; --"], default));

        // Released, waiting: nobody lists them (not even the worker that unloaded them), and the next wake is the timer's.
        Assert.Empty(await other.ListClaimableAsync("other", null, 10, default));
        Assert.Empty(await store.ListClaimableAsync("w", null, 10, default));
        Assert.Equal(wakeAt, await other.GetNextWakeAsync(default));
        var unloaded = (await other.GetRunAsync("timer-1", default))!;
        Assert.Equal((null, wakeAt), (unloaded.Owner, unloaded.WakeAt));
        Assert.Equal(RunRecord.WakeOnSignalOnly, (await other.GetRunAsync("signal-1", default))!.WakeAt);
        Assert.NotEqual(Heartbeats.Current(timer), await Heartbeats.HeldAsync(store, timer, s_lease));

        // A signal of any name wakes its run at once; time wakes the other when it comes, and not a minute before.
        Assert.Equal(SignalSendOutcome.Accepted, await other.AddSignalAsync(Signal("signal-1", "s-1", "unrelated", "1"), default));
        Assert.Equal(["signal-1"], await other.ListClaimableAsync("other", null, 10, default));
        Assert.Null((await other.GetRunAsync("signal-1", default))!.WakeAt);
        Clock.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal(["signal-1"], await other.ListClaimableAsync("other", null, 10, default));
        Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(["timer-1", "signal-1"], (await other.ListClaimableAsync("other", null, 10, default)).Order(StringComparer.Ordinal).Reverse());
        Assert.Equal(wakeAt, await other.GetNextWakeAsync(default));

        // A claim (even of a run not due, as ExecuteAsync may make) loads the run: no wake time left to strand it.
        var reloaded = (await other.TryClaimAsync("timer-1", "other", s_lease, default))!;
        Assert.Null((await store.GetRunAsync("timer-1", default))!.WakeAt);
        Assert.Equal(SuspendOutcome.Fenced, await store.SuspendAsync(timer, wakeAt, [], default));
        Assert.Null(await other.GetNextWakeAsync(default));
        Assert.Equal(SuspendOutcome.Suspended, await other.SuspendAsync(reloaded, wakeAt.AddHours(1), [], default));
        Assert.Equal(wakeAt.AddHours(1), await other.GetNextWakeAsync(default));
    }

    [Fact]
    public async Task A_run_is_not_unloaded_while_a_signal_its_waits_ask_for_is_stored()
    {
        var store = CreateStore();
        await store.CreateRunAsync(NewRun("run-1"), default);
        var lease = (await store.TryClaimAsync("run-1", "w", s_lease, default))!;
        await store.AddSignalAsync(Signal("run-1", "s-1", "approve", "1"), default);

        Assert.Equal(SuspendOutcome.SignalWaiting, await store.SuspendAsync(lease, RunRecord.WakeOnSignalOnly, ["reject", "approve"], default));
        Assert.Equal(Heartbeats.Current(lease), await Heartbeats.HeldAsync(store, lease, s_lease));
        Assert.Null((await store.GetRunAsync("run-1", default))!.WakeAt);

        // Once taken, the signal no longer holds the run; a stored signal of another name never did.
        await TakeAsync(store, lease, 0, "approve");
        await store.AddSignalAsync(Signal("run-1", "s-2", "later", "2"), default);
        Assert.Equal(SuspendOutcome.Suspended, await store.SuspendAsync(lease, RunRecord.WakeOnSignalOnly, ["approve"], default));
    }

    [Fact]
    public async Task A_cancel_is_recorded_once_with_its_reason_and_wakes_an_unloaded_run()
    {
        const string hostile = "'); DROP TABLE runs; -- \u2603 \r\n";
        var store = CreateStore();
        var other = CreateStore();
        await store.CreateRunAsync(NewRun("run-1"), default);
        await store.CreateRunAsync(NewRun("run-2"), default);
        var lease = (await store.TryClaimAsync("run-1", "w", s_lease, default))!;
        await store.SuspendAsync(lease, RunRecord.WakeOnSignalOnly, ["approve"], default);
        Assert.DoesNotContain("run-1", await other.ListClaimableAsync("other", null, 10, default));

        Assert.Equal(CancelRequestOutcome.Requested, await other.RequestCancelAsync("run-1", hostile, default));
        Assert.Equal(CancelRequestOutcome.AlreadyRequested, await other.RequestCancelAsync("run-1", "again", default));
        Assert.Equal(CancelRequestOutcome.Requested, await other.RequestCancelAsync("run-2", new string('r', 100_000), default));
        Assert.Equal(CancelRequestOutcome.RunNotFound, await other.RequestCancelAsync("run-3", "", default));

        var cancelled = (await store.GetRunAsync("run-1", default))!;
        Assert.Equal((hostile, null, WorkflowStatus.Running), (cancelled.CancelReason, cancelled.WakeAt, cancelled.Status));
        Assert.Contains("run-1", await store.ListClaimableAsync("w", null, 10, default));
        Assert.Equal(100_000, (await store.GetRunAsync("run-2", default))!.CancelReason!.Length);

        var claimed = (await store.TryClaimAsync("run-1", "w", s_lease, default))!;
        await store.CompleteRunAsync(claimed, new RunOutcome(WorkflowStatus.Failed, null, new WorkflowError("X", "y")), default);
        Assert.Equal(CancelRequestOutcome.RunFinished, await other.RequestCancelAsync("run-1", "late", default));
        Assert.Equal(hostile, (await store.GetRunAsync("run-1", default))!.CancelReason);
    }

    [Fact]
    public async Task After_a_cancel_request_writes_start_no_new_work_and_report_it()
    {
        var store = CreateStore();
        var other = CreateStore();
        await store.CreateRunAsync(NewRun("run-1"), default);
        var lease = (await store.TryClaimAsync("run-1", "w", s_lease, default))!;
        var running = Attempting("run-1", 0);
        Assert.False((await store.RecordAttemptAsync(lease, running, JournalDurability.Durable, default)).CancelRequested);
        await store.RecordAttemptAsync(lease, Wait("run-1", 1), JournalDurability.Durable, default);
        await store.AddSignalAsync(Signal("run-1", "s-1", "approve", "\"yes\""), default);
        Assert.Equal(Heartbeats.Current(lease), await Heartbeats.HeldAsync(store, lease, s_lease));

        Assert.Equal(CancelRequestOutcome.Requested, await other.RequestCancelAsync("run-1", "stop", default));

        // New work is refused and nothing is written: no new attempt, no signal taken, no unloading.
        Assert.Equal(JournalWriteResult.Cancelled, await store.RecordAttemptAsync(lease, Attempting("run-1", 2), JournalDurability.Durable, default));
        Assert.Equal(JournalWriteResult.Cancelled, await store.RecordAttemptAsync(lease, running, JournalDurability.Durable, default));
        Assert.Equal(JournalWriteResult.Cancelled, await store.TakeSignalAsync(lease, Completed(Wait("run-1", 1), "ignored", 0), "approve", default));
        Assert.Equal(SuspendOutcome.CancelRequested, await store.SuspendAsync(lease, RunRecord.WakeOnSignalOnly, ["other"], default));
        Assert.Equal(Heartbeats.Current(lease, cancelRequested: true), await Heartbeats.HeldAsync(store, lease, s_lease));
        var journal = (await store.LoadAsync("run-1", default))!.Journal;
        Assert.Equal([(0L, 1, JournalEntryState.Attempting), (1L, 1, JournalEntryState.Attempting)], journal.Select(e => (e.Sequence, e.Attempts, e.State)));
        Assert.Null((await store.GetRunAsync("run-1", default))!.WakeAt);

        // Work already done is still recorded, and the result says the run is to stop.
        var completed = await store.CompleteEntryAsync(lease, Completed(running, "42", 0), default);
        Assert.Equal((JournalEntryState.Completed, "42", true, false), (completed.Entry!.State, completed.Entry.OutputJson, completed.CancelRequested, completed.Fenced));

        // A fenced writer is told it is fenced, not that the run is cancelled.
        var taken = (await other.TryClaimAsync("run-1", "w", s_lease, default))!; // the same worker restarted: a new epoch
        Assert.Equal(JournalWriteResult.FencedOut, await store.RecordAttemptAsync(lease, Attempting("run-1", 2), JournalDurability.Durable, default));
        Assert.NotEqual(Heartbeats.Current(lease), await Heartbeats.HeldAsync(store, lease, s_lease));
        Assert.True(await other.CompleteRunAsync(taken, new RunOutcome(WorkflowStatus.Cancelled, null, new WorkflowError("System.OperationCanceledException", "stop")), default));
        var ended = (await store.GetRunAsync("run-1", default))!;
        Assert.Equal((WorkflowStatus.Cancelled, "stop", "stop"), (ended.Status, ended.CancelReason, ended.Error!.Message));
    }

    [Fact]
    public async Task A_failed_attempt_keeps_its_error_and_retry_time_until_the_next_attempt_starts()
    {
        var store = CreateStore();
        await store.CreateRunAsync(NewRun("run-1"), default);
        var lease = (await store.TryClaimAsync("run-1", "w", s_lease, default))!;
        var attempt = (await store.RecordAttemptAsync(lease, Attempting("run-1", 0), JournalDurability.Durable, default)).Entry!;
        var retryAt = Clock.GetUtcNow().AddMinutes(5);
        var error = new WorkflowError("System.TimeoutException", "'); DROP TABLE journal; -- \u2603");

        var scheduled = await store.ScheduleRetryAsync(lease, attempt with { Error = error, RetryAt = retryAt }, default);

        Assert.Equal((JournalEntryState.Attempting, 1, error, retryAt), (scheduled.Entry!.State, scheduled.Entry.Attempts, scheduled.Entry.Error, scheduled.Entry.RetryAt));
        Assert.Equal(scheduled.Entry, (await store.LoadAsync("run-1", default))!.Journal.Single());

        // The next attempt clears the retry time and counts; the last error stays until the outcome replaces it.
        var second = (await store.RecordAttemptAsync(lease, Attempting("run-1", 0), JournalDurability.Durable, default)).Entry!;
        Assert.Equal((2, error, null), (second.Attempts, second.Error, second.RetryAt));
        var completed = (await store.CompleteEntryAsync(lease, Completed(second with { Error = null }, "\"ok\"", 0), default)).Entry!;
        Assert.Equal((JournalEntryState.Completed, null, null, 2), (completed.State, completed.Error, completed.RetryAt, completed.Attempts));

        // A terminal row is never rescheduled; a fenced writer changes nothing.
        Assert.Equal(completed, (await store.ScheduleRetryAsync(lease, completed with { Error = error, RetryAt = retryAt }, default)).Entry);
        var takeover = (await CreateStore().TryClaimAsync("run-1", "w", s_lease, default))!;
        Assert.NotEqual(lease.Epoch, takeover.Epoch);
        Assert.Equal(JournalWriteResult.FencedOut, await store.ScheduleRetryAsync(lease, Attempting("run-1", 1) with { Error = error, RetryAt = retryAt }, default));
    }

    private async Task<JournalWriteResult> TakeAsync(IWorkflowStore store, RunLease lease, long sequence, string name)
    {
        await store.RecordAttemptAsync(lease, Wait(lease.WorkflowId, sequence), JournalDurability.Durable, default);
        var index = (await store.LoadAsync(lease.WorkflowId, default))!.Journal.Count(e => e.IsTerminal);
        return await store.TakeSignalAsync(lease, Completed(Wait(lease.WorkflowId, sequence), "ignored", index), name, default);
    }

    private SignalRecord Signal(string workflowId, string signalId, string name, string payload) => new(workflowId, signalId, name, payload, Clock.GetUtcNow());

    private JournalEntry Wait(string workflowId, long sequence)
        => JournalEntry.Attempting(workflowId, sequence, "signal", OperationKind.Step, "{}", Clock.GetUtcNow()) with { Attempts = 1 };

    public void Dispose()
    {
        foreach (var store in _stores)
        {
            store.Dispose();
        }

        DisposeStorage();
        GC.SuppressFinalize(this);
    }

    protected virtual void DisposeStorage()
    {
    }

    private RunRecord NewRun(string workflowId, string input = "{}")
        => RunRecord.Started(workflowId, "Orders", 1, input, Clock.GetUtcNow());

    private JournalEntry Attempting(string workflowId, long sequence)
        => JournalEntry.Attempting(workflowId, sequence, "Charge", OperationKind.Step, "{\"x\":1}", Clock.GetUtcNow()) with { Attempts = 1 };

    private JournalEntry Completed(JournalEntry entry, string output, long completionIndex)
        => entry with { State = JournalEntryState.Completed, OutputJson = output, CompletionIndex = completionIndex, CompletedAt = Clock.GetUtcNow() };
}

public sealed class InMemoryStoreConformanceTests : StoreConformanceTests
{
    private readonly Dictionary<string, InMemoryWorkflowStore> _shared = [];

    // In-memory storage is the store object itself: "another process" on the same storage is the same object.
    protected override IWorkflowStore CreateStore(string name = "main")
        => _shared.TryGetValue(name, out var store) ? store : _shared[name] = new InMemoryWorkflowStore(Clock);
}

public sealed class SqliteStoreConformanceTests : StoreConformanceTests
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durably-conformance-" + Guid.NewGuid().ToString("N"));

    protected override IWorkflowStore CreateStore(string name = "main")
        => Track(SqliteWorkflowStore.Open(Path.Combine(_directory, name + ".db"), Clock));

    protected override void DisposeStorage()
    {
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}

public sealed class PostgresStoreConformanceTests(PostgresDatabase database) : StoreConformanceTests, IClassFixture<PostgresDatabase>
{
    // One database per class; each test has its own schemas, one per storage name, shared by the stores opened on it.
    private readonly string _prefix = "conformance_" + Guid.NewGuid().ToString("N")[..12] + "_";

    protected override IWorkflowStore CreateStore(string name = "main")
        => Track(PostgresWorkflowStore.Open(database.ConnectionString, new PostgresStoreOptions { Schema = _prefix + name }, Clock));
}
