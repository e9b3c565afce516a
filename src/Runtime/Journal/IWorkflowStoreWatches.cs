namespace Durably.Runtime.Journal;

/// <summary>
/// Implemented by a store that announces a run's end (<see cref="IWorkflowStoreEvents.RunFinished"/>) only to those who
/// asked: a caller that waits for a result marks the run watched when it reads it, and the store announces the end of
/// watched runs only — an end nobody waits for costs no notification.
/// </summary>
public interface IWorkflowStoreWatches
{
    /// <summary>
    /// Reads run <paramref name="workflowId"/> and, while it is running, marks it watched, so that its end is announced
    /// (<see cref="IWorkflowStoreEvents.RunFinished"/>, in every process that listens). The mark and the run's end are
    /// ordered: either the end sees the mark and is announced, or the read already sees the run ended.
    /// </summary>
    /// <param name="workflowId">The run.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The run, or <see langword="null"/> when no run has that id.</returns>
    Task<RunRecord?> WatchRunAsync(string workflowId, CancellationToken cancellationToken);
}
