namespace Durably.Runtime.Journal;

/// <summary>
/// Runs started by other runs (child workflows): a child is created with its link to the parent in one write, and a
/// child's end wakes its parent if the parent is unloaded waiting — in the same write that ends the child, so a parent
/// never sleeps through its child's end. The built-in stores implement it.
/// </summary>
/// <remarks>
/// A cancel requested for a run (<see cref="IWorkflowStore.RequestCancelAsync"/>) reaches its running children and
/// theirs in the same write, with the reason <see cref="ChildLink.CancelReasonOf"/>; a child created after its parent was
/// asked to cancel starts asked to cancel. A child linked with <see cref="ChildLink.AbandonOnParentCancel"/> is left
/// alone, and so are its own children.
/// </remarks>
public interface IWorkflowStoreChildren
{
    /// <summary>
    /// Creates <paramref name="child"/> linked to its parent, or finds the run that already has its id (a parent that
    /// replays, or retries after a crash, creates its child once).
    /// </summary>
    /// <param name="child">The child's row.</param>
    /// <param name="link">The parent and the parent's journal row that awaits the child.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The run with that id, and whether it was created now.</returns>
    Task<(RunRecord Run, bool Created)> CreateChildRunAsync(RunRecord child, ChildLink link, CancellationToken cancellationToken);

    /// <summary>
    /// Rolls back child <paramref name="childId"/> for its parent's rollback, atomically: a child that completed is
    /// reopened with a cancel requested (<see cref="WorkflowStatus.Running"/>, unowned, its result cleared), so that a
    /// worker compensates its journal and ends it <see cref="WorkflowStatus.Cancelled"/>; a child still running is asked
    /// to cancel (and its children with it); a child that failed, was cancelled or is dead-lettered is left as it is. A
    /// store with <see cref="IWorkflowStoreEvents"/> tells other processes.
    /// </summary>
    /// <param name="childId">The child.</param>
    /// <param name="reason">Its cancel reason.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The child as it is after the call, or <see langword="null"/> when there is none.</returns>
    Task<RunRecord?> RollBackChildAsync(string childId, string reason, CancellationToken cancellationToken);

    /// <summary>The parent of run <paramref name="childId"/>, if it was started as a child.</summary>
    /// <param name="childId">The run.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>Its link, or <see langword="null"/> when it has no parent.</returns>
    Task<ChildLink?> GetParentAsync(string childId, CancellationToken cancellationToken);

    /// <summary>The parents of the runs among <paramref name="childIds"/> that were started as children, in one read (for a page of runs).</summary>
    /// <param name="childIds">The runs; at most <see cref="WorkflowRunQuery.MaxPageSize"/>.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The links of those that have a parent, in no particular order.</returns>
    Task<IReadOnlyList<ChildLink>> GetParentsAsync(IReadOnlyCollection<string> childIds, CancellationToken cancellationToken);

    /// <summary>The children run <paramref name="parentId"/> started, in the order of the parent's journal.</summary>
    /// <param name="parentId">The parent.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The links, by parent sequence.</returns>
    Task<IReadOnlyList<ChildLink>> ListChildrenAsync(string parentId, CancellationToken cancellationToken);
}

/// <summary>A child run and where its parent awaits it.</summary>
/// <param name="ChildId">The child run.</param>
/// <param name="ParentId">The run that started it.</param>
/// <param name="ParentSequence">The parent's journal row that awaits the child.</param>
public sealed record ChildLink(string ChildId, string ParentId, long ParentSequence)
{
    /// <summary>Whether a cancel of the parent leaves this child running (<c>ParentCancelPolicy.Abandon</c>) rather than cancelling it too.</summary>
    public bool AbandonOnParentCancel { get; init; }

    /// <summary>
    /// The statuses of a child's end that wake its parent: completed, failed, cancelled. A dead letter waits for a person
    /// (a retry may still complete it); a run that continues as new hands its link to the run that carries on.
    /// </summary>
    public static IReadOnlyList<WorkflowStatus> WakingStatuses { get; } = [WorkflowStatus.Completed, WorkflowStatus.Failed, WorkflowStatus.Cancelled];

    /// <summary>The cancel reason a child gets when its parent <paramref name="parentId"/> is cancelled for <paramref name="reason"/>.</summary>
    /// <param name="parentId">The cancelled parent.</param>
    /// <param name="reason">The parent's cancel reason.</param>
    /// <returns>The child's reason.</returns>
    public static string CancelReasonOf(string parentId, string reason) => $"parent run '{parentId}' was cancelled: {reason}";

    /// <summary>The cancel reason a child still running gets when its parent <paramref name="parentId"/> fails.</summary>
    /// <param name="parentId">The failed parent.</param>
    /// <returns>The child's reason.</returns>
    public static string FailedParentReasonOf(string parentId) => $"parent run '{parentId}' failed";

    /// <summary>The cancel reason a child gets when its parent <paramref name="parentId"/> rolls back and undoes it.</summary>
    /// <param name="parentId">The parent rolling back.</param>
    /// <returns>The child's reason.</returns>
    public static string RolledBackReasonOf(string parentId) => $"parent run '{parentId}' rolled back";
}
