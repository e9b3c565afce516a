namespace Durably.Runtime.Journal;

/// <summary>
/// Counts for operators — a dashboard's overview, a CLI summary — answered from indexes, never by reading run rows one
/// by one. The built-in stores implement it; a store that does not is shown without counts.
/// </summary>
public interface IWorkflowStoreStatistics
{
    /// <summary>
    /// Counts runs by workflow and status: every run in the store when <paramref name="finishedSince"/> is
    /// <see langword="null"/>; otherwise only the runs that ended (any status but <see cref="WorkflowStatus.Running"/>)
    /// at or after it — the window a throughput and a failure rate are computed over.
    /// </summary>
    /// <param name="finishedSince">The window's start; null for all runs.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>One row per workflow and status that has runs, ordered by status, then workflow name (ordinal).</returns>
    Task<IReadOnlyList<RunCount>> CountRunsAsync(DateTimeOffset? finishedSince, CancellationToken cancellationToken);
}

/// <summary>How many runs of one workflow have one status (see <see cref="IWorkflowStoreStatistics.CountRunsAsync"/>).</summary>
/// <param name="WorkflowName">The workflow.</param>
/// <param name="Status">The status.</param>
/// <param name="Count">How many runs.</param>
public sealed record RunCount(string WorkflowName, WorkflowStatus Status, long Count);
