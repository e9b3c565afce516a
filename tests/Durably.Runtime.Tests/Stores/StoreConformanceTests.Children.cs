using Durably.Runtime.Journal;

namespace Durably.Runtime.Tests.Stores;

/// <summary>Child runs, the same on every store: created once with their link; a child's end wakes its unloaded parent.</summary>
public abstract partial class StoreConformanceTests
{
    [Fact]
    public async Task A_child_is_created_once_with_its_link_and_its_end_wakes_its_unloaded_parent()
    {
        var store = CreateStore();
        var other = CreateStore();
        var children = Assert.IsAssignableFrom<IWorkflowStoreChildren>(store);
        await store.CreateRunAsync(NewRun("parent-1"), default);
        var parent = (await store.TryClaimAsync("parent-1", "w", s_lease, default))!;

        var (child, created) = await children.CreateChildRunAsync(NewRun("parent-1/child/1") with { WorkflowName = "Shipments" }, new ChildLink("parent-1/child/1", "parent-1", 1), default);
        var (again, createdAgain) = await children.CreateChildRunAsync(NewRun("parent-1/child/1") with { WorkflowName = "Shipments", InputJson = "{\"other\":1}" }, new ChildLink("parent-1/child/1", "parent-1", 1), default);
        await children.CreateChildRunAsync(NewRun("parent-1/child/2"), new ChildLink("parent-1/child/2", "parent-1", 2), default);

        Assert.True(created);
        Assert.False(createdAgain);
        Assert.Equal(("Shipments", "{}", WorkflowStatus.Running), (again.WorkflowName, again.InputJson, again.Status));
        Assert.Equal(child.WorkflowId, again.WorkflowId);
        Assert.Equal(new ChildLink("parent-1/child/1", "parent-1", 1), await children.GetParentAsync("parent-1/child/1", default));
        Assert.Null(await children.GetParentAsync("parent-1", default));
        Assert.Equal(["parent-1/child/1", "parent-1/child/2"], (await children.ListChildrenAsync("parent-1", default)).Select(l => l.ChildId));
        Assert.Equal(["parent-1/child/1", "parent-1/child/2"],
            (await children.GetParentsAsync(["parent-1/child/2", "parent-1", "no-such-run", "parent-1/child/1"], default)).Select(l => l.ChildId).Order(StringComparer.Ordinal));
        Assert.Empty(await children.GetParentsAsync([], default));

        // The parent unloads to wait; the first child is parked (no wake: a person may retry it), the second completes.
        Assert.Equal(SuspendOutcome.Suspended, await store.SuspendAsync(parent, RunRecord.WakeOnSignalOnly, [], default));
        await EndChildAsync(other, "parent-1/child/1", WorkflowStatus.DeadLettered);
        Assert.Equal(RunRecord.WakeOnSignalOnly, (await other.GetRunAsync("parent-1", default))!.WakeAt);
        Assert.DoesNotContain("parent-1", await other.ListClaimableAsync("other", null, 10, default));
        await EndChildAsync(other, "parent-1/child/2", WorkflowStatus.Completed);

        Assert.Null((await store.GetRunAsync("parent-1", default))!.WakeAt);
        Assert.Contains("parent-1", await other.ListClaimableAsync("other", null, 10, default));
    }

    [Fact]
    public async Task A_child_that_continues_as_new_hands_its_link_on_and_a_fenced_end_wakes_nobody()
    {
        var store = CreateStore();
        var children = Assert.IsAssignableFrom<IWorkflowStoreChildren>(store);
        await store.CreateRunAsync(NewRun("parent-2"), default);
        var parent = (await store.TryClaimAsync("parent-2", "w", s_lease, default))!;
        await children.CreateChildRunAsync(NewRun("parent-2/child/3"), new ChildLink("parent-2/child/3", "parent-2", 3), default);
        Assert.Equal(SuspendOutcome.Suspended, await store.SuspendAsync(parent, RunRecord.WakeOnSignalOnly, [], default));

        // A lease that lost the child ends nothing, so it wakes nothing.
        var stale = (await store.TryClaimAsync("parent-2/child/3", "w1", s_lease, default))!;
        Clock.Advance(s_lease + TimeSpan.FromSeconds(1));
        var current = (await store.TryClaimAsync("parent-2/child/3", "w2", s_lease, default))!;
        Assert.False(await store.CompleteRunAsync(stale, new RunOutcome(WorkflowStatus.Completed, "1", null), default));
        Assert.NotNull((await store.GetRunAsync("parent-2", default))!.WakeAt);

        var next = RunRecord.Started("parent-2/child/3~1", "Orders", 1, "{}", Clock.GetUtcNow(), generation: 1);
        Assert.True(await store.CompleteRunAsync(current, new RunOutcome(WorkflowStatus.ContinuedAsNew, null, null, next), default));
        Assert.NotNull((await store.GetRunAsync("parent-2", default))!.WakeAt);
        Assert.Equal(new ChildLink("parent-2/child/3~1", "parent-2", 3), await children.GetParentAsync("parent-2/child/3~1", default));

        await EndChildAsync(store, "parent-2/child/3~1", WorkflowStatus.Failed);
        Assert.Null((await store.GetRunAsync("parent-2", default))!.WakeAt);
    }

    [Fact]
    public async Task A_run_does_not_unload_while_a_child_it_awaits_has_ended_and_unloads_once_it_took_the_result()
    {
        var store = CreateStore();
        var children = Assert.IsAssignableFrom<IWorkflowStoreChildren>(store);
        await store.CreateRunAsync(NewRun("parent-3"), default);
        var parent = (await store.TryClaimAsync("parent-3", "w", s_lease, default))!;
        var awaiting = JournalEntry.Attempting("parent-3", 0, "Shipments", OperationKind.Step, "\"parent-3/child/0\"", Clock.GetUtcNow()) with { Attempts = 1 };
        await store.RecordAttemptAsync(parent, awaiting, JournalDurability.Durable, default);
        await children.CreateChildRunAsync(NewRun("parent-3/child/0"), new ChildLink("parent-3/child/0", "parent-3", 0), default);

        // The child ends while the parent is loaded (nothing to wake): the parent's unload must see it, not sleep through it.
        await EndChildAsync(store, "parent-3/child/0", WorkflowStatus.Completed);
        Assert.Equal(SuspendOutcome.ChildEnded, await store.SuspendAsync(parent, RunRecord.WakeOnSignalOnly, [], default));
        Assert.Equal("w", (await store.GetRunAsync("parent-3", default))!.Owner);

        // Once its row holds the result, an unload goes ahead.
        var taken = awaiting with { State = JournalEntryState.Completed, OutputJson = "1", CompletedAt = Clock.GetUtcNow(), CompletionIndex = 0 };
        Assert.False((await store.CompleteEntryAsync(parent, taken, default)).Fenced);
        Assert.Equal(SuspendOutcome.Suspended, await store.SuspendAsync(parent, RunRecord.WakeOnSignalOnly, [], default));
    }

    [Fact]
    public async Task A_cancel_reaches_children_and_grandchildren_and_a_child_created_afterwards_starts_cancelled()
    {
        var store = CreateStore();
        var children = Assert.IsAssignableFrom<IWorkflowStoreChildren>(store);
        await store.CreateRunAsync(NewRun("root"), default);
        await children.CreateChildRunAsync(NewRun("root/a"), new ChildLink("root/a", "root", 0), default);
        await children.CreateChildRunAsync(NewRun("root/a/b"), new ChildLink("root/a/b", "root/a", 0), default);
        await EndChildAsync(store, "root/a/b", WorkflowStatus.Completed);
        await children.CreateChildRunAsync(NewRun("root/a/c"), new ChildLink("root/a/c", "root/a", 1), default);
        await store.CreateRunAsync(NewRun("unrelated"), default);

        Assert.Equal(CancelRequestOutcome.Requested, await store.RequestCancelAsync("root", "customer cancelled", default));

        Assert.Equal("customer cancelled", (await store.GetRunAsync("root", default))!.CancelReason);
        Assert.Equal("parent run 'root' was cancelled: customer cancelled", (await store.GetRunAsync("root/a", default))!.CancelReason);
        Assert.Equal("parent run 'root' was cancelled: customer cancelled", (await store.GetRunAsync("root/a/c", default))!.CancelReason);
        Assert.Null((await store.GetRunAsync("root/a/b", default))!.CancelReason);
        Assert.Null((await store.GetRunAsync("unrelated", default))!.CancelReason);

        var (late, _) = await children.CreateChildRunAsync(NewRun("root/late"), new ChildLink("root/late", "root", 5), default);
        Assert.Equal("parent run 'root' was cancelled: customer cancelled", (await store.GetRunAsync("root/late", default))!.CancelReason);
        Assert.Equal("root/late", late.WorkflowId);
    }

    [Fact]
    public async Task A_child_linked_to_be_abandoned_is_left_running_by_its_parents_cancel()
    {
        var store = CreateStore();
        var children = Assert.IsAssignableFrom<IWorkflowStoreChildren>(store);
        await store.CreateRunAsync(NewRun("boss"), default);
        await children.CreateChildRunAsync(NewRun("boss/kept"), new ChildLink("boss/kept", "boss", 0) { AbandonOnParentCancel = true }, default);
        await children.CreateChildRunAsync(NewRun("boss/kept/grandchild"), new ChildLink("boss/kept/grandchild", "boss/kept", 0), default);
        await children.CreateChildRunAsync(NewRun("boss/cancelled"), new ChildLink("boss/cancelled", "boss", 1), default);

        Assert.Equal(CancelRequestOutcome.Requested, await store.RequestCancelAsync("boss", "stop", default));
        await children.CreateChildRunAsync(NewRun("boss/late-kept"), new ChildLink("boss/late-kept", "boss", 2) { AbandonOnParentCancel = true }, default);

        Assert.Null((await store.GetRunAsync("boss/kept", default))!.CancelReason);
        Assert.Null((await store.GetRunAsync("boss/kept/grandchild", default))!.CancelReason);
        Assert.Null((await store.GetRunAsync("boss/late-kept", default))!.CancelReason);
        Assert.NotNull((await store.GetRunAsync("boss/cancelled", default))!.CancelReason);
        Assert.True((await children.GetParentAsync("boss/kept", default))!.AbandonOnParentCancel);
        Assert.Equal([true, false, true], (await children.ListChildrenAsync("boss", default)).Select(l => l.AbandonOnParentCancel));
    }

    [Fact]
    public async Task Rolling_back_a_child_reopens_a_completed_one_cancelled_asks_a_running_one_to_cancel_and_leaves_an_ended_one()
    {
        var store = CreateStore();
        var children = Assert.IsAssignableFrom<IWorkflowStoreChildren>(store);
        await store.CreateRunAsync(NewRun("parent-rb"), default);
        foreach (var (child, sequence) in new[] { ("parent-rb/done", 1L), ("parent-rb/busy", 2L), ("parent-rb/failed", 3L) })
        {
            await children.CreateChildRunAsync(NewRun(child), new ChildLink(child, "parent-rb", sequence), default);
        }

        await EndChildAsync(store, "parent-rb/done", WorkflowStatus.Completed);
        await EndChildAsync(store, "parent-rb/failed", WorkflowStatus.Failed);
        var busy = (await store.TryClaimAsync("parent-rb/busy", "w", s_lease, default))!;
        Clock.Advance(TimeSpan.FromSeconds(1));

        var reopened = await children.RollBackChildAsync("parent-rb/done", "parent run 'parent-rb' rolled back", default);
        var asked = await children.RollBackChildAsync("parent-rb/busy", "parent run 'parent-rb' rolled back", default);
        var left = await children.RollBackChildAsync("parent-rb/failed", "parent run 'parent-rb' rolled back", default);
        var again = await children.RollBackChildAsync("parent-rb/done", "a second time", default);

        Assert.Equal((WorkflowStatus.Running, "parent run 'parent-rb' rolled back", null, null), (reopened!.Status, reopened.CancelReason, reopened.OutputJson, reopened.Owner));
        Assert.Contains("parent-rb/done", await store.ListClaimableAsync("other", null, 10, default));
        Assert.Equal((WorkflowStatus.Running, "parent run 'parent-rb' rolled back", "w"), (asked!.Status, asked.CancelReason, asked.Owner));
        Assert.Contains(await store.RenewLeasesAsync("w", s_lease, default), h => h.WorkflowId == busy.WorkflowId && h.CancelRequested);
        Assert.Equal((WorkflowStatus.Failed, null), (left!.Status, left.CancelReason));
        Assert.Equal("parent run 'parent-rb' rolled back", again!.CancelReason);
        Assert.Null(await children.RollBackChildAsync("no-such-child", "x", default));
    }

    private async Task EndChildAsync(IWorkflowStore store, string id, WorkflowStatus status)
    {
        var lease = (await store.TryClaimAsync(id, "child-worker", s_lease, default))!;
        var error = status == WorkflowStatus.Completed ? null : new WorkflowError("E", "child failed");
        Assert.True(await store.CompleteRunAsync(lease, new RunOutcome(status, status == WorkflowStatus.Completed ? "1" : null, error), default));
    }
}
