using Durably.Runtime.Journal;
using Durably.Runtime.Tests.Support;

namespace Durably.Runtime.Tests.Stores;

/// <summary>Batch claims and the worker heartbeat: one round trip for many runs, on every store.</summary>
public abstract partial class StoreConformanceTests
{
    [Fact]
    public async Task A_batch_claim_takes_the_oldest_claimable_runs_up_to_the_limit_skipping_excluded_held_and_foreign_versions()
    {
        var store = CreateStore();
        var other = CreateStore();
        for (var i = 0; i < 6; i++)
        {
            await store.CreateRunAsync(NewRun($"run-{i}"), default);
            Clock.Advance(TimeSpan.FromMilliseconds(10));
        }

        await store.CreateRunAsync(RunRecord.Started("invoice-1", "Invoice", 1, "{}", Clock.GetUtcNow()), default);
        var held = (await other.TryClaimAsync("run-1", "busy-worker", s_lease, default))!;
        var runnable = new[] { new WorkflowVersion("Orders", 1) };

        var batch = await store.ClaimRunsAsync("w", runnable, ["run-0"], 3, s_lease, default);

        // The oldest three that are free: run-0 is excluded (the worker runs it already), run-1 is another worker's.
        Assert.Equal(["run-2", "run-3", "run-4"], batch.Claimed.Select(l => l.WorkflowId));
        Assert.All(batch.Claimed, l => Assert.Equal(("w", (string?)null), (l.Owner, l.TakenFrom)));
        foreach (var lease in batch.Claimed)
        {
            var run = (await other.GetRunAsync(lease.WorkflowId, default))!;
            Assert.Equal(("w", lease.Epoch), (run.Owner, run.Epoch));
        }

        // Next come run-0 and run-5 (w's runs in flight excluded; w's other runs would be its own to take back, as after a
        // restart); never the other version's run, never the held one before its lease ends.
        string[] running = [.. batch.Claimed.Select(l => l.WorkflowId)];
        var rest = await store.ClaimRunsAsync("w", runnable, running, 10, s_lease, default);
        Assert.Equal(["run-0", "run-5"], rest.Claimed.Select(l => l.WorkflowId));
        Assert.NotNull(rest.NextClaimableIn);
        Assert.InRange(rest.NextClaimableIn!.Value, s_lease - TimeSpan.FromSeconds(10), s_lease + TimeSpan.FromSeconds(1));
        running = [.. running, .. rest.Claimed.Select(l => l.WorkflowId)];
        Assert.Empty((await store.ClaimRunsAsync("w", runnable, running, 10, s_lease, default)).Claimed);
        Assert.Equal(["run-2", "run-3"], (await store.ClaimRunsAsync("w", runnable, ["run-0", "run-4", "run-5"], 2, s_lease, default)).Claimed.Select(l => l.WorkflowId));
        Assert.Empty((await store.ClaimRunsAsync("w", runnable, [], 0, s_lease, default)).Claimed);

        // Once the other worker's lease has run out, its run is taken over, and the claim says from whom.
        Clock.Advance(s_lease + TimeSpan.FromSeconds(1));
        var recovered = Assert.Single((await store.ClaimRunsAsync("w", runnable, running, 10, s_lease, default)).Claimed);
        Assert.Equal(("run-1", "busy-worker"), (recovered.WorkflowId, recovered.TakenFrom));
        Assert.True(recovered.Epoch > held.Epoch);
        Assert.Equal(JournalWriteResult.FencedOut, await other.RecordAttemptAsync(held, Attempting("run-1", 0), JournalDurability.Durable, default));
    }

    [Fact]
    public async Task A_batch_claim_reads_the_runs_it_took_with_their_journals_as_they_are_after_the_claim()
    {
        var store = CreateStore();
        await store.CreateRunAsync(NewRun("run-1"), default);
        await store.CreateRunAsync(NewRun("run-2"), default);
        var dead = (await store.TryClaimAsync("run-1", "w1", s_lease, default))!;
        var attempt = (await store.RecordAttemptAsync(dead, Attempting("run-1", 0), JournalDurability.Durable, default)).Entry!;
        await store.CompleteEntryAsync(dead, Completed(attempt, "\"one\"", 0), default);
        await store.RecordAttemptAsync(dead, Attempting("run-1", 1), JournalDurability.Durable, default);

        // w1's lease lapses; w2 takes both runs in one claim.
        Clock.Advance(s_lease + TimeSpan.FromSeconds(1));
        var batch = await store.ClaimRunsAsync("w2", null, [], 10, s_lease, default);

        Assert.Equal(["run-1", "run-2"], batch.Claimed.Select(c => c.WorkflowId));
        Assert.NotNull(batch.Loaded);
        foreach (var lease in batch.Claimed)
        {
            var loaded = batch.Loaded[lease.WorkflowId];
            var read = (await store.LoadAsync(lease.WorkflowId, default))!;
            Assert.Equal(("w2", lease.Epoch), (loaded.Run.Owner, loaded.Run.Epoch));
            Assert.Equal(read.Run with { LeaseExpiresAt = null }, loaded.Run with { LeaseExpiresAt = null });
            Assert.Equal(read.Journal, loaded.Journal);
        }

        Assert.Equal([JournalEntryState.Completed, JournalEntryState.Attempting], batch.Loaded["run-1"].Journal.Select(e => e.State));
        Assert.Empty(batch.Loaded["run-2"].Journal);
    }

    [Fact]
    public async Task A_batch_claim_says_when_an_unloaded_run_falls_due_and_claims_it_then()
    {
        var store = CreateStore();
        await store.CreateRunAsync(NewRun("sleeper-1"), default);
        var lease = Assert.Single((await store.ClaimRunsAsync("w", null, [], 10, s_lease, default)).Claimed);
        Assert.Equal(SuspendOutcome.Suspended, await store.SuspendAsync(lease, Clock.GetUtcNow().AddMinutes(5), [], default));

        var idle = await store.ClaimRunsAsync("w", null, [], 10, s_lease, default);

        Assert.Empty(idle.Claimed);
        Assert.InRange(idle.NextClaimableIn!.Value, TimeSpan.FromMinutes(5) - TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));
        Clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal("sleeper-1", Assert.Single((await store.ClaimRunsAsync("w", null, [], 10, s_lease, default)).Claimed).WorkflowId);
        Assert.Null((await store.ClaimRunsAsync("w", null, [], 10, s_lease, default)).NextClaimableIn);
    }

    [Fact]
    public async Task The_heartbeat_renews_every_run_of_its_worker_in_one_call_and_reports_epochs_and_cancels()
    {
        var store = CreateStore();
        var other = CreateStore();
        for (var i = 0; i < 3; i++)
        {
            await store.CreateRunAsync(NewRun($"run-{i}"), default);
        }

        var leases = (await store.ClaimRunsAsync("w", null, [], 2, s_lease, default)).Claimed;
        var foreign = (await other.TryClaimAsync("run-2", "other-worker", s_lease, default))!;
        Assert.Equal(CancelRequestOutcome.Requested, await other.RequestCancelAsync("run-1", "stop", default));

        // Most of a lease later, one heartbeat keeps both of w's runs, and says run-1 is to stop.
        Clock.Advance(s_lease - TimeSpan.FromSeconds(1));
        var held = await store.RenewLeasesAsync("w", s_lease, default);
        Assert.Equal([Heartbeats.Current(leases[0]), Heartbeats.Current(leases[1], cancelRequested: true)], held.OrderBy(h => h.WorkflowId, StringComparer.Ordinal));

        // Past the original lease, w's runs are still its own; the other worker's, not renewed, can be taken.
        Clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Null(await other.TryClaimAsync("run-0", "thief", s_lease, default));
        Assert.NotNull(await store.TryClaimAsync("run-2", "thief", s_lease, default));
        Assert.Empty(await other.RenewLeasesAsync("other-worker", s_lease, default));
        Assert.NotEqual(Heartbeats.Current(foreign), await Heartbeats.HeldAsync(other, foreign));
        Assert.Empty(await store.RenewLeasesAsync("nobody", s_lease, default));
    }

    [Fact]
    public async Task A_deferred_attempting_write_is_stored_counted_fenced_and_refused_after_a_cancel_like_a_durable_one()
    {
        var store = CreateStore();
        var other = CreateStore();
        await store.CreateRunAsync(NewRun("run-1"), default);
        var lease = (await store.TryClaimAsync("run-1", "w", s_lease, default))!;

        var first = (await store.RecordAttemptAsync(lease, Attempting("run-1", 0), JournalDurability.Deferred, default)).Entry!;
        var second = (await store.RecordAttemptAsync(lease, Attempting("run-1", 0), JournalDurability.Deferred, default)).Entry!;

        Assert.Equal((1, 2), (first.Attempts, second.Attempts));
        Assert.Equal(second, (await other.LoadAsync("run-1", default))!.Journal.Single());
        var completed = await store.CompleteEntryAsync(lease, Completed(second, "\"ok\"", 0), default);
        Assert.Equal(JournalEntryState.Completed, completed.Entry!.State);

        Assert.Equal(CancelRequestOutcome.Requested, await other.RequestCancelAsync("run-1", "stop", default));
        Assert.Equal(JournalWriteResult.Cancelled, await store.RecordAttemptAsync(lease, Attempting("run-1", 1), JournalDurability.Deferred, default));
        // Another worker takes the run over once the lease has run out: the old writer is fenced.
        var takeover = await TakeOverAfterLeaseAsync(other, "run-1");
        Assert.NotEqual(lease.Epoch, takeover.Epoch);
        Assert.Equal(JournalWriteResult.FencedOut, await store.RecordAttemptAsync(lease, Attempting("run-1", 2), JournalDurability.Deferred, default));
        Assert.Single((await other.LoadAsync("run-1", default))!.Journal);
    }

    [Fact]
    public async Task A_pipelined_attempting_write_is_written_after_a_cancel_fenced_and_never_overwrites_an_outcome_it_arrives_after()
    {
        var store = CreateStore();
        var other = CreateStore();
        await store.CreateRunAsync(NewRun("run-1"), default);
        var lease = (await store.TryClaimAsync("run-1", "w", s_lease, default))!;

        // Its outcome arrives first (the two writes travel apart): the late attempting row changes nothing.
        var outcome = await store.CompleteEntryAsync(lease, Completed(Attempting("run-1", 0) with { Attempts = 1 }, "\"ok\"", 0), default);
        var late = await store.RecordAttemptAsync(lease, Attempting("run-1", 0), JournalDurability.Pipelined, default);
        Assert.Equal(outcome.Entry, late.Entry);
        Assert.Equal(outcome.Entry, (await other.LoadAsync("run-1", default))!.Journal.Single());

        // An outcome whose attempt's row has not arrived yet counts that attempt (the row holds one, the outcome two).
        await store.CreateRunAsync(NewRun("run-2"), default);
        var lease2 = (await store.TryClaimAsync("run-2", "w", s_lease, default))!;
        var first = (await store.RecordAttemptAsync(lease2, Attempting("run-2", 0), JournalDurability.Durable, default)).Entry!;
        Assert.Equal(2, (await store.CompleteEntryAsync(lease2, Completed(first with { Attempts = 2 }, "\"ok\"", 0), default)).Entry!.Attempts);

        // A body already running when a cancel was requested still has its row written.
        Assert.Equal(CancelRequestOutcome.Requested, await other.RequestCancelAsync("run-1", "stop", default));
        var running = await store.RecordAttemptAsync(lease, Attempting("run-1", 1), JournalDurability.Pipelined, default);
        Assert.Equal((JournalEntryState.Attempting, 1, true), (running.Entry!.State, running.Entry.Attempts, running.CancelRequested));

        // And it is fenced like any write.
        await TakeOverAfterLeaseAsync(other, "run-1");
        Assert.Equal(JournalWriteResult.FencedOut, await store.RecordAttemptAsync(lease, Attempting("run-1", 2), JournalDurability.Pipelined, default));
        Assert.Equal(2, (await other.LoadAsync("run-1", default))!.Journal.Count);
    }

    private async Task<RunLease> TakeOverAfterLeaseAsync(IWorkflowStore store, string workflowId)
    {
        Clock.Advance(s_lease + TimeSpan.FromSeconds(1));
        return (await store.TryClaimAsync(workflowId, "w2", s_lease, default))!;
    }

    [Fact]
    public async Task A_run_created_with_an_owner_is_held_by_that_worker_as_if_it_had_claimed_it()
    {
        var store = CreateStore();
        // The worker has claimed before (where leases are per worker, its lease row is live), as a worker taking starts has.
        Assert.Empty((await store.ClaimRunsAsync("w", null, [], 1, s_lease, default)).Claimed);
        var (stored, created) = await store.CreateRunAsync(NewRun("run-1") with { Owner = "w", Epoch = 1, LeaseExpiresAt = Clock.GetUtcNow() + s_lease }, default);

        Assert.True(created);
        Assert.Equal(("w", 1L, WorkflowStatus.Running), (stored.Owner, stored.Epoch, stored.Status));
        Assert.Null(await store.TryClaimAsync("run-1", "w2", s_lease, default));
        Assert.Empty((await store.ClaimRunsAsync("w2", null, [], 10, s_lease, default)).Claimed);
        var held = new RunLease("run-1", "w", 1);
        Assert.False((await store.RecordAttemptAsync(held, Attempting("run-1", 0), JournalDurability.Durable, default)).Fenced);

        // Its lease lapses like a claimed run's: another worker takes it over, and the creator's writes are fenced.
        var taken = await TakeOverAfterLeaseAsync(store, "run-1");
        Assert.Equal(("w2", 2L, "w"), (taken.Owner, taken.Epoch, taken.TakenFrom));
        Assert.True((await store.CompleteEntryAsync(held, Completed(Attempting("run-1", 0), "\"late\"", 0), default)).Fenced);
    }

    [Fact]
    public async Task Journal_writes_of_many_runs_at_once_each_get_their_own_result_a_fenced_one_included()
    {
        const int runs = 48;
        var store = CreateStore();
        var leases = new List<RunLease>();
        for (var i = 0; i < runs; i++)
        {
            await store.CreateRunAsync(NewRun($"run-{i}"), default);
            leases.Add((await store.TryClaimAsync($"run-{i}", "w", s_lease, default))!);
        }

        // run-0's lease is stale: another worker took it over. Its writes are fenced, whatever they travel with.
        var stale = leases[0];
        leases[0] = await TakeOverAfterLeaseAsync(CreateStore(), "run-0");
        using var start = new Barrier(runs);
        var results = new Task<JournalWriteResult>[runs];
        var threads = Enumerable.Range(0, runs).Select(i => new Thread(() =>
        {
            start.SignalAndWait();
            var lease = i == 0 ? stale : leases[i];
            var durability = i % 2 == 0 ? JournalDurability.Deferred : JournalDurability.Durable;
            results[i] = store.RecordAttemptAsync(lease, Attempting($"run-{i}", 0), durability, default)
                .ContinueWith(t => t.Result.Fenced ? Task.FromResult(t.Result) : store.CompleteEntryAsync(lease, Completed(t.Result.Entry!, $"\"{i}\"", 0), default),
                    TaskScheduler.Default).Unwrap();
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        Assert.Equal(JournalWriteResult.FencedOut, await results[0]);
        Assert.Empty((await store.LoadAsync("run-0", default))!.Journal);
        for (var i = 1; i < runs; i++)
        {
            var written = (await results[i]).Entry!;
            Assert.Equal(($"run-{i}", JournalEntryState.Completed, $"\"{i}\""), (written.WorkflowId, written.State, written.OutputJson));
            Assert.Equal(written, (await store.LoadAsync($"run-{i}", default))!.Journal.Single());
        }
    }
}
