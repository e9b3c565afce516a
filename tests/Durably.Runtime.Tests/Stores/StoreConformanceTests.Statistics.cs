using Durably.Runtime.Journal;

namespace Durably.Runtime.Tests.Stores;

/// <summary>Counts for operators: the same on every store.</summary>
public abstract partial class StoreConformanceTests
{
    [Fact]
    public async Task Counts_runs_by_workflow_and_status_and_those_that_ended_in_a_window()
    {
        var store = CreateStore();
        var statistics = Assert.IsAssignableFrom<IWorkflowStoreStatistics>(store);
        Assert.Empty(await statistics.CountRunsAsync(null, default));

        // An hour ago: one order completed. Now: one more completed, one failed, one refund dead-lettered; two still running.
        await EndAsync(store, NewRun("old-done"), WorkflowStatus.Completed);
        Clock.Advance(TimeSpan.FromHours(1));
        var windowStart = Clock.GetUtcNow();
        await EndAsync(store, NewRun("done"), WorkflowStatus.Completed);
        await EndAsync(store, NewRun("failed"), WorkflowStatus.Failed);
        await EndAsync(store, NewRun("parked") with { WorkflowName = "Refunds" }, WorkflowStatus.DeadLettered);
        await store.CreateRunAsync(NewRun("running-1"), default);
        await store.CreateRunAsync(NewRun("running-2") with { WorkflowName = "Refunds" }, default);

        Assert.Equal(
            [new RunCount("Orders", WorkflowStatus.Running, 1), new RunCount("Refunds", WorkflowStatus.Running, 1), new RunCount("Orders", WorkflowStatus.Completed, 2),
                new RunCount("Orders", WorkflowStatus.Failed, 1), new RunCount("Refunds", WorkflowStatus.DeadLettered, 1)],
            await statistics.CountRunsAsync(null, default));
        Assert.Equal(
            [new RunCount("Orders", WorkflowStatus.Completed, 1), new RunCount("Orders", WorkflowStatus.Failed, 1), new RunCount("Refunds", WorkflowStatus.DeadLettered, 1)],
            await statistics.CountRunsAsync(windowStart, default));
        Assert.Empty(await statistics.CountRunsAsync(Clock.GetUtcNow().AddSeconds(1), default));
    }

    [Fact]
    public async Task Lists_the_workers_with_what_they_run_and_the_runs_they_hold()
    {
        var store = CreateStore();
        var statistics = Assert.IsAssignableFrom<IWorkflowStoreStatistics>(store);
        Assert.Empty(await statistics.ListWorkersAsync(default));

        await store.AdvertiseAsync("worker-b", [new WorkflowVersion("Orders", 1), new WorkflowVersion("Refunds", 2)], TimeSpan.FromMinutes(1), default);
        await store.AdvertiseAsync("worker-a", [new WorkflowVersion("Orders", 1)], TimeSpan.FromMinutes(1), default);
        foreach (var id in new[] { "held-1", "held-2", "free" })
        {
            await store.CreateRunAsync(NewRun(id), default);
        }

        Assert.NotNull(await store.TryClaimAsync("held-1", "worker-a", TimeSpan.FromSeconds(30), default));
        Assert.NotNull(await store.TryClaimAsync("held-2", "worker-a", TimeSpan.FromSeconds(30), default));

        var workers = await statistics.ListWorkersAsync(default);

        Assert.Equal(["worker-a", "worker-b"], workers.Select(w => w.Name));
        var (a, b) = (workers[0], workers[1]);
        Assert.Equal([new WorkflowVersion("Orders", 1)], a.Workflows);
        Assert.Equal([new WorkflowVersion("Orders", 1), new WorkflowVersion("Refunds", 2)], b.Workflows);
        Assert.Equal((2L, 0L), (a.RunsHeld, b.RunsHeld));
        Assert.NotNull(a.LeaseExpiresAt);
        Assert.Null(b.LeaseExpiresAt);
        Assert.NotNull(a.AdvertisedUntil);
    }

    private async Task EndAsync(IWorkflowStore store, RunRecord run, WorkflowStatus status)
    {
        await store.CreateRunAsync(run, default);
        var lease = (await store.TryClaimAsync(run.WorkflowId, "w", TimeSpan.FromSeconds(30), default))!;
        var error = status == WorkflowStatus.Completed ? null : new WorkflowError("E", "it failed");
        Assert.True(await store.CompleteRunAsync(lease, new RunOutcome(status, status == WorkflowStatus.Completed ? "1" : null, error), default));
    }
}
