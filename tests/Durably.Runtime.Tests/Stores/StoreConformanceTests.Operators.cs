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
}
