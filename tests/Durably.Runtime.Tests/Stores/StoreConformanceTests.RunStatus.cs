using Durably.Runtime.Journal;

namespace Durably.Runtime.Tests.Stores;

/// <summary>Runs' statuses and progress, the same on every store: a staged status rides on the next fenced write, once.</summary>
public abstract partial class StoreConformanceTests
{
    [Fact]
    public async Task A_staged_status_is_written_by_the_runs_next_fenced_write_only_while_its_lease_is_current_and_only_when_it_changed()
    {
        var store = CreateStore();
        var statuses = Assert.IsAssignableFrom<IWorkflowStoreRunStatus>(store);
        await store.CreateRunAsync(NewRun("status-1"), default);
        var lease = (await store.TryClaimAsync("status-1", "w", s_lease, default))!;
        var written = Clock.GetUtcNow();

        // Staging writes nothing; the next write carries it.
        statuses.StageStatus(lease, "\"reading\"");
        Assert.Null(await statuses.GetRunStatusAsync("status-1", default));
        await store.RecordAttemptAsync(lease, Attempting("status-1", 0), JournalDurability.Durable, default);
        Assert.Equal(new RunStatusRecord("status-1", "\"reading\"", written, null, null), await statuses.GetRunStatusAsync("status-1", default));

        // The same status again changes nothing, not even its time; a write with nothing staged carries nothing.
        Clock.Advance(TimeSpan.FromSeconds(5));
        statuses.StageStatus(lease, "\"reading\"");
        await store.CompleteEntryAsync(lease, Completed(Attempting("status-1", 0), "1", 0), default);
        await store.RecordAttemptAsync(lease, Attempting("status-1", 1), JournalDurability.Deferred, default);
        Assert.Equal(("\"reading\"", written), await StatusAsync(statuses, "status-1"));

        // The latest stage wins; progress goes in writes of its own.
        statuses.StageStatus(lease, "\"loading\"");
        statuses.StageStatus(lease, "\"loading 2\"");
        Assert.True(await statuses.WriteProgressAsync(lease, "[{\"sequence\":1}]", default));
        await store.ScheduleRetryAsync(lease, Attempting("status-1", 1) with { Error = new WorkflowError("E", "m"), RetryAt = Clock.GetUtcNow() }, default);
        Assert.Equal(new RunStatusRecord("status-1", "\"loading 2\"", Clock.GetUtcNow(), "[{\"sequence\":1}]", Clock.GetUtcNow()), await statuses.GetRunStatusAsync("status-1", default));

        // A lease taken over writes neither status nor progress, now or later.
        Clock.Advance(s_lease + TimeSpan.FromSeconds(1));
        var current = (await store.TryClaimAsync("status-1", "w2", s_lease, default))!;
        statuses.StageStatus(lease, "\"from a zombie\"");
        Assert.Equal(JournalWriteResult.FencedOut, await store.RecordAttemptAsync(lease, Attempting("status-1", 2), JournalDurability.Durable, default));
        Assert.False(await statuses.WriteProgressAsync(lease, "[]", default));
        statuses.StageStatus(lease, "\"from a zombie, again\"");
        await store.ReleaseAsync(current, default);
        current = (await store.TryClaimAsync("status-1", "w2", s_lease, default))!;
        Assert.Equal(("\"loading 2\"", written + TimeSpan.FromSeconds(5)), await StatusAsync(statuses, "status-1"));

        // Unloading carries it; null clears it; the end carries the last one, and a purge takes it away.
        statuses.StageStatus(current, "\"waiting\"");
        Assert.Equal(SuspendOutcome.Suspended, await store.SuspendAsync(current, RunRecord.WakeOnSignalOnly, [], default));
        Assert.Equal("\"waiting\"", (await StatusAsync(statuses, "status-1")).Json);
        current = (await store.TryClaimAsync("status-1", "w3", s_lease, default))!;
        statuses.StageStatus(current, null);
        await store.RecordAttemptAsync(current, Attempting("status-1", 2), JournalDurability.Durable, default);
        Assert.Null((await StatusAsync(statuses, "status-1")).Json);
        statuses.StageStatus(current, "\"done\"");
        Assert.True(await store.CompleteRunAsync(current, new RunOutcome(WorkflowStatus.Completed, "1", null), default));
        Assert.Equal("\"done\"", (await StatusAsync(statuses, "status-1")).Json);

        Clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal(["status-1"], await Assert.IsAssignableFrom<IWorkflowStoreRetention>(store).PurgeRunsAsync(new RunPurgeQuery(Clock.GetUtcNow(), null, 10), default));
        Assert.Null(await statuses.GetRunStatusAsync("status-1", default));
    }

    private static async Task<(string? Json, DateTimeOffset? At)> StatusAsync(IWorkflowStoreRunStatus statuses, string workflowId)
        => (await statuses.GetRunStatusAsync(workflowId, default)) is { } record ? (record.StatusJson, record.StatusUpdatedAt) : (null, null);
}
