using Durably.Runtime.Journal;
using Durably.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime.Tests.Replay;

/// <summary>
/// Child workflows, the same on every store, on real time with a live worker: children run and their results reach
/// the parent (fan-out with Task.WhenAll); a child's failure reaches the parent naming the child; a parent unloaded
/// while it waits is woken by its child's end; replaying the parent starts no second child.
/// </summary>
public abstract class ChildWorkflowTests : StoreTestBase
{
    private readonly BodyLog _log = new();
    private readonly Gate _gate = new();

    private TestHost Host(TimeSpan? unloadAfter = null) => Track(new TestHost(
        OpenStore(), d => d.AddWorkflow<ChildParcelOrder>().AddWorkflow<ParcelShipment>().AddWorkflow<LetGoParcelOrder>().AddWorkflow<ClientParcelOrder>().AddWorkflow<HalfShippedOrder>().AddWorkflow<UndoableShipment>().AddWorkflow<RolledBackOrder>(),
        s => s.AddSingleton(_log).AddSingleton(_gate),
        "children-worker",
        o =>
        {
            o.PollInterval = TimeSpan.FromMilliseconds(50);
            o.MaxConcurrentRuns = 64;
            o.UnloadThreshold = unloadAfter ?? Timeout.InfiniteTimeSpan;
        }));

    private static async Task<string> RunAsync(TestHost host, string id, params string[] parcels)
    {
        await host.Worker.StartAsync(default);
        try
        {
            await host.Get<ChildParcelOrderClient>().StartAsync(parcels, id);
            return await host.Client.WaitForResultAsync<string>(id).WaitAsync(TimeSpan.FromSeconds(60));
        }
        finally
        {
            await host.Worker.StopAsync(default);
        }
    }

    [Fact]
    public async Task Fifty_children_run_at_once_and_their_results_reach_the_parent_in_order()
    {
        var host = Host();
        var parcels = Enumerable.Range(0, 50).Select(i => $"p{i}").ToArray();

        var result = await RunAsync(host, "order-50", parcels);

        Assert.Equal(string.Join(",", parcels.Select(p => $"shipped {p}")), result);
        var children = await Assert.IsAssignableFrom<IWorkflowStoreChildren>(host.Store).ListChildrenAsync("order-50", default);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => ($"order-50/ParcelShipment/{i}", (long)i)), children.Select(c => (c.ChildId, c.ParentSequence)));
        var details = (await host.Client.GetRunDetailsAsync("order-50"))!;
        Assert.All(details.Operations, o => Assert.Equal((WorkflowOperationKind.Child, "ParcelShipment", WorkflowOperationState.Completed), (o.Kind, o.Name, o.State)));
        Assert.Equal(children.Select(c => c.ChildId), details.ChildWorkflowIds);
        Assert.Null(details.ParentWorkflowId);
        var first = (await host.Client.GetRunDetailsAsync("order-50/ParcelShipment/0"))!;
        Assert.Equal(("order-50", 0, "order-50"), (first.ParentWorkflowId, first.ChildWorkflowIds.Count, first.Run.ParentWorkflowId));

        // Listings name each child's parent (one read per page).
        var listed = await host.Client.ListRunsAsync(new WorkflowRunQuery { PageSize = 100 });
        Assert.Equal(51, listed.Runs.Count);
        Assert.All(listed.Runs.Where(r => r.WorkflowName == "ParcelShipment"), r => Assert.Equal("order-50", r.ParentWorkflowId));
        Assert.Null(listed.Runs.Single(r => r.WorkflowId == "order-50").ParentWorkflowId);
        Assert.Equal(50, _log.Count("Pack"));
    }

    [Fact]
    public async Task Fifty_children_of_a_parent_that_unloads_as_soon_as_it_waits_all_run_and_wake_it()
    {
        // The parent unloads the moment every child wait is ready: each child must exist by then, or nothing wakes it.
        var host = Host(unloadAfter: TimeSpan.Zero);
        var parcels = Enumerable.Range(0, 50).Select(i => $"u{i}").ToArray();

        var result = await RunAsync(host, "order-50-unloading", parcels);

        Assert.Equal(string.Join(",", parcels.Select(p => $"shipped {p}")), result);
        Assert.Equal(50, (await ((IWorkflowStoreChildren)host.Store).ListChildrenAsync("order-50-unloading", default)).Count);
    }

    [Fact]
    public async Task A_child_started_through_its_generated_client_is_journaled_as_a_child()
    {
        var host = Host();
        await host.Worker.StartAsync(default);
        try
        {
            await host.Get<ClientParcelOrderClient>().StartAsync("c", "order-client");
            Assert.Equal("via client: shipped c", await host.Client.WaitForResultAsync<string>("order-client").WaitAsync(TimeSpan.FromSeconds(60)));
            Assert.Equal(["order-client/ParcelShipment/0"], (await host.Client.GetRunDetailsAsync("order-client"))!.ChildWorkflowIds);
        }
        finally
        {
            await host.Worker.StopAsync(default);
        }
    }

    [Fact]
    public async Task A_childs_failure_reaches_the_parent_naming_the_child_and_its_error()
    {
        var host = Host();

        var result = await RunAsync(host, "order-lost", "a", "lost-b");

        Assert.StartsWith("failed: order-lost/ParcelShipment/1: Child workflow 'ParcelShipment' (run 'order-lost/ParcelShipment/1', awaited at sequence 1) ended Failed: ", result, StringComparison.Ordinal);
        Assert.Contains("parcel lost-b was lost", result, StringComparison.Ordinal);
        Assert.Equal(WorkflowStatus.Failed, (await host.Client.GetRunAsync("order-lost/ParcelShipment/1"))!.Status);
    }

    [Fact]
    public async Task A_parent_unloaded_while_it_waits_is_woken_by_its_childs_end()
    {
        // Unloads as soon as it only waits: the parent is out of memory while its child is held, and comes back for the result.
        var host = Host(unloadAfter: TimeSpan.Zero);
        await host.Worker.StartAsync(default);
        try
        {
            await host.Get<ChildParcelOrderClient>().StartAsync(["held-x"], "order-unload");
            await _gate.Arrived.WaitAsync(TimeSpan.FromSeconds(30));
            var parked = await Wait.UntilAsync(async () => await host.Client.GetRunDetailsAsync("order-unload") is { IsUnloaded: true } details ? details : null,
                "the parent never unloaded while its child was held");
            Assert.Equal((null, null), (parked.Worker, parked.WakeAt));

            _gate.Release();

            Assert.Equal("shipped held-x", await host.Client.WaitForResultAsync<string>("order-unload").WaitAsync(TimeSpan.FromSeconds(60)));
        }
        finally
        {
            await host.Worker.StopAsync(default);
        }
    }

    [Fact]
    public async Task Cancelling_the_parent_cancels_the_child_it_waits_for()
    {
        var host = Host();
        await host.Worker.StartAsync(default);
        try
        {
            await host.Get<ChildParcelOrderClient>().StartAsync(["held-z"], "order-cancel");
            await _gate.Arrived.WaitAsync(TimeSpan.FromSeconds(30));

            Assert.Equal(CancelResult.Requested, await host.Client.CancelAsync("order-cancel", "customer changed their mind"));

            var failed = await Assert.ThrowsAsync<WorkflowFailedException>(() => host.Client.WaitForResultAsync<string>("order-cancel").WaitAsync(TimeSpan.FromSeconds(60)));
            Assert.Equal(WorkflowStatus.Cancelled, failed.Status);
            await Wait.UntilAsync(async () => (await host.Client.GetRunAsync("order-cancel/ParcelShipment/0"))!.Status == WorkflowStatus.Cancelled,
                "the child was not cancelled with its parent");
            Assert.Equal("parent run 'order-cancel' was cancelled: customer changed their mind", (await host.Client.GetRunAsync("order-cancel/ParcelShipment/0"))!.CancelReason);
        }
        finally
        {
            _gate.Release();
            await host.Worker.StopAsync(default);
        }
    }

    [Fact]
    public async Task A_parent_that_fails_cancels_the_child_still_running_for_it()
    {
        var host = Host();
        await host.Worker.StartAsync(default);
        try
        {
            await host.Get<HalfShippedOrderClient>().StartAsync(["held-h", "lost-after-held-h"], "order-half");
            await _gate.Arrived.WaitAsync(TimeSpan.FromSeconds(30));

            var failed = await Assert.ThrowsAsync<WorkflowFailedException>(() => host.Client.WaitForResultAsync<string>("order-half").WaitAsync(TimeSpan.FromSeconds(60)));
            Assert.Equal(WorkflowStatus.Failed, failed.Status);
            Assert.Equal("parent run 'order-half' failed", (await host.Client.GetRunAsync("order-half/ParcelShipment/0"))!.CancelReason);

            _gate.Release();
            await Wait.UntilAsync(async () => (await host.Client.GetRunAsync("order-half/ParcelShipment/0"))!.Status == WorkflowStatus.Cancelled,
                "the child still running was not cancelled when its parent failed");
        }
        finally
        {
            _gate.Release();
            await host.Worker.StopAsync(default);
        }
    }

    [Fact]
    public async Task A_parent_that_rolls_back_rolls_back_the_children_that_completed_except_those_it_abandons()
    {
        var host = Host();
        await host.Worker.StartAsync(default);
        try
        {
            await host.Get<RolledBackOrderClient>().StartAsync("order-rb", "order-rb");

            var failed = await Assert.ThrowsAsync<WorkflowFailedException>(() => host.Client.WaitForResultAsync<string>("order-rb").WaitAsync(TimeSpan.FromSeconds(60)));

            Assert.Equal(WorkflowStatus.Failed, failed.Status);
            // Asked as the parent rolled back; the child rolls back on a worker of its own.
            var cancelled = await Assert.ThrowsAsync<WorkflowFailedException>(() => host.Client.WaitForResultAsync<string>("order-rb/UndoableShipment/0").WaitAsync(TimeSpan.FromSeconds(60)));
            Assert.Equal(WorkflowStatus.Cancelled, cancelled.Status);
            var undone = (await host.Client.GetRunAsync("order-rb/UndoableShipment/0"))!;
            Assert.Equal((WorkflowStatus.Cancelled, "parent run 'order-rb' rolled back"), (undone.Status, undone.CancelReason));
            Assert.Equal(WorkflowStatus.Completed, (await host.Client.GetRunAsync("order-rb/UndoableShipment/1"))!.Status);
            Assert.Equal(["order-rb/UndoableShipment/0/Pack/0/compensate"], _log.Runs.Where(r => r.IdempotencyKey.EndsWith("/compensate", StringComparison.Ordinal)).Select(r => r.IdempotencyKey));
            var parent = (await host.Client.GetRunDetailsAsync("order-rb"))!;
            var rollback = Assert.Single(parent.Operations, o => o.Kind == WorkflowOperationKind.Compensation);
            Assert.Equal(("UndoableShipment", WorkflowOperationState.Completed), (rollback.Name, rollback.State));
        }
        finally
        {
            await host.Worker.StopAsync(default);
        }
    }

    [Fact]
    public async Task Cancelling_a_parent_leaves_a_child_it_abandons_running_to_its_end()
    {
        var host = Host();
        await host.Worker.StartAsync(default);
        try
        {
            await host.Get<LetGoParcelOrderClient>().StartAsync("held-w", "order-let-go");
            await _gate.Arrived.WaitAsync(TimeSpan.FromSeconds(30));

            await host.Client.CancelAsync("order-let-go", "order withdrawn");
            var failed = await Assert.ThrowsAsync<WorkflowFailedException>(() => host.Client.WaitForResultAsync<string>("order-let-go").WaitAsync(TimeSpan.FromSeconds(60)));
            Assert.Equal(WorkflowStatus.Cancelled, failed.Status);
            Assert.Null((await host.Client.GetRunAsync("order-let-go/ParcelShipment/0"))!.CancelReason);

            _gate.Release();
            Assert.Equal("shipped held-w", await host.Client.WaitForResultAsync<string>("order-let-go/ParcelShipment/0").WaitAsync(TimeSpan.FromSeconds(60)));
        }
        finally
        {
            _gate.Release();
            await host.Worker.StopAsync(default);
        }
    }

    [Fact]
    public async Task Replaying_the_parent_starts_no_second_child()
    {
        var host = Host();
        Assert.Equal("shipped y", await RunAsync(host, "order-replay", "y"));
        var store = (IWorkflowStoreChildren)host.Store;

        // The finished parent, replayed from its journal as a fresh execution would: the child is found, not started again.
        await using var replay = new TestHost(await TestHost.CloneAsRunningAsync(host.Store, "order-replay"), d => d.AddWorkflow<ChildParcelOrder>().AddWorkflow<ParcelShipment>(),
            s => s.AddSingleton(_log).AddSingleton(_gate), "replayer");
        Assert.Equal(WorkflowStatus.Completed, (await replay.Engine.ExecuteAsync("order-replay").WaitAsync(TimeSpan.FromSeconds(30))).Status);
        Assert.Single(await store.ListChildrenAsync("order-replay", default));
        Assert.Equal(1, _log.Count("Pack"));
    }
}

public sealed class InMemoryChildWorkflowTests : ChildWorkflowTests
{
    private protected override TestStorage CreateStorage() => TestStorage.InMemory(TimeProvider.System);
}

public sealed class SqliteChildWorkflowTests : ChildWorkflowTests
{
    private protected override TestStorage CreateStorage() => TestStorage.Sqlite(TimeProvider.System);
}

public sealed class PostgresChildWorkflowTests(PostgresDatabase database) : ChildWorkflowTests, IClassFixture<PostgresDatabase>
{
    private protected override TestStorage CreateStorage() => TestStorage.Postgres(database, TimeProvider.System, "children");
}
