using Durably.Runtime.Journal;

namespace Durably.Runtime.Tests.Stores;

/// <summary>What the dashboard and the CLI read and write beyond the engine: run filters and the operators' trail.</summary>
public abstract partial class StoreConformanceTests
{
    [Fact]
    public async Task Lists_runs_by_instance_key_and_by_version_of_a_workflow()
    {
        var store = CreateStore();
        // One active run holds a key at a time: the older one with customer-7 has ended.
        await EndAsync(store, NewRun("v1-a") with { InstanceKey = "customer-7" }, WorkflowStatus.Completed);
        Clock.Advance(TimeSpan.FromSeconds(1));
        await store.CreateRunAsync(NewRun("v2-a") with { Version = 2 }, default);
        Clock.Advance(TimeSpan.FromSeconds(1));
        await store.CreateRunAsync(NewRun("v2-b") with { Version = 2, InstanceKey = "customer-7" }, default);
        Clock.Advance(TimeSpan.FromSeconds(1));
        await store.CreateRunAsync(NewRun("other") with { WorkflowName = "Refunds", Version = 2, InstanceKey = "customer-8" }, default);

        Assert.Equal(["v2-b", "v1-a"], await Ids(new RunListQuery(null, null, null, null, null, 10) { InstanceKey = "customer-7" }));
        Assert.Equal(["v2-b", "v2-a"], await Ids(new RunListQuery("Orders", null, null, null, null, 10) { Version = 2 }));
        Assert.Equal(["v2-b"], await Ids(new RunListQuery("Orders", WorkflowStatus.Running, null, null, null, 10) { Version = 2, InstanceKey = "customer-7" }));
        Assert.Empty(await Ids(new RunListQuery("Orders", null, null, null, null, 10) { Version = 3 }));
        Assert.Empty(await Ids(new RunListQuery(null, null, null, null, null, 10) { InstanceKey = "<script>alert(1)</script>' OR 1=1 --" }));

        // Keyset paging holds with the new filters: one run a page, in order, no run twice.
        var page1 = await store.ListRunsAsync(new RunListQuery("Orders", null, null, null, null, 1) { Version = 2 }, default);
        var page2 = await store.ListRunsAsync(new RunListQuery("Orders", null, null, null, (page1[0].CreatedAt, page1[0].WorkflowId), 1) { Version = 2 }, default);
        Assert.Equal(["v2-b", "v2-a"], page1.Concat(page2).Select(r => r.WorkflowId));

        async Task<string[]> Ids(RunListQuery query) => [.. (await store.ListRunsAsync(query, default)).Select(r => r.WorkflowId)];
    }

    [Fact]
    public async Task Keeps_the_operators_trail_of_a_run_newest_first()
    {
        var store = CreateStore();
        var log = Assert.IsAssignableFrom<IOperatorActionLog>(store);
        Assert.Empty(await log.ListOperatorActionsAsync("run-1", 10, default));

        var hostile = "<script>alert('x')</script> \"; DROP TABLE runs; -- ünïcödé 🚀 " + new string('r', DurableOperator.MaxReasonLength - 60);
        var first = new OperatorActionRecord("run-1", "retry", "alice@example.com", "card processor key rotated", Clock.GetUtcNow());
        Clock.Advance(TimeSpan.FromMinutes(5));
        var second = new OperatorActionRecord("run-1", "signal:approve", "bob", hostile, Clock.GetUtcNow());
        await log.RecordOperatorActionAsync(first, default);
        await log.RecordOperatorActionAsync(second, default);
        await log.RecordOperatorActionAsync(first with { WorkflowId = "run-2" }, default);

        Assert.Equal([second, first], await log.ListOperatorActionsAsync("run-1", 10, default));
        Assert.Equal([second], await log.ListOperatorActionsAsync("run-1", 1, default));
        Assert.Equal([first with { WorkflowId = "run-2" }], await log.ListOperatorActionsAsync("run-2", 10, default));
    }

    [Fact]
    public async Task Purges_ended_runs_oldest_first_with_their_rows_and_keeps_running_runs_and_dead_letters()
    {
        var store = CreateStore();
        var retention = Assert.IsAssignableFrom<IWorkflowStoreRetention>(store);
        var log = Assert.IsAssignableFrom<IOperatorActionLog>(store);
        foreach (var (id, status) in new[] { ("old-completed", WorkflowStatus.Completed), ("old-failed", WorkflowStatus.Failed), ("old-cancelled", WorkflowStatus.Cancelled), ("old-parked", WorkflowStatus.DeadLettered) })
        {
            await EndAsync(store, NewRun(id), status);
            Clock.Advance(TimeSpan.FromSeconds(1));
        }

        await EndAsync(store, NewRun("old-refund") with { WorkflowName = "Refunds" }, WorkflowStatus.Completed);
        await store.CreateRunAsync(NewRun("old-running"), default);
        await store.AddSignalAsync(new SignalRecord("old-completed", "s-1", "approve", "{}", Clock.GetUtcNow()), default);
        await log.RecordOperatorActionAsync(new OperatorActionRecord("old-failed", "retry", "alice", "why", Clock.GetUtcNow()), default);
        Clock.Advance(TimeSpan.FromDays(30));
        var cutoff = Clock.GetUtcNow();
        await EndAsync(store, NewRun("recent-completed"), WorkflowStatus.Completed);

        Assert.Equal(["old-refund"], await retention.PurgeRunsAsync(new RunPurgeQuery(cutoff, "Refunds", 10), default));
        Assert.Equal(["old-completed", "old-failed"], await retention.PurgeRunsAsync(new RunPurgeQuery(cutoff, null, 2), default));
        Assert.Equal(["old-cancelled"], await retention.PurgeRunsAsync(new RunPurgeQuery(cutoff, null, 10), default));
        Assert.Empty(await retention.PurgeRunsAsync(new RunPurgeQuery(cutoff, null, 10), default));

        foreach (var gone in new[] { "old-completed", "old-failed", "old-cancelled", "old-refund" })
        {
            Assert.Null(await store.LoadAsync(gone, default));
        }

        Assert.Empty(await log.ListOperatorActionsAsync("old-failed", 10, default));
        Assert.Equal(SignalSendOutcome.RunNotFound, await store.AddSignalAsync(new SignalRecord("old-completed", "s-2", "approve", "{}", Clock.GetUtcNow()), default));
        Assert.Equal(WorkflowStatus.DeadLettered, (await store.GetRunAsync("old-parked", default))!.Status);
        Assert.Equal(WorkflowStatus.Running, (await store.GetRunAsync("old-running", default))!.Status);
        Assert.NotNull(await store.GetRunAsync("recent-completed", default));

        // A purged id can start a new run: nothing of the old one is left to collide with.
        Assert.True((await store.CreateRunAsync(NewRun("old-completed"), default)).Created);
    }
}
