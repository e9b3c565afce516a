namespace Durably.Runtime.Journal;

/// <summary>
/// A store that lets a run its own worker will hold begin before its start is on disk: the start commits at once
/// without waiting for the disk, the run begins, and the start is made durable beside it — usually in the same flush as
/// the run's first journal write. <c>StartAsync</c> still returns only once the start is durable. PostgreSQL implements
/// it; a store without it starts every run with a durable commit first.
/// </summary>
public interface IWorkflowStoreEarlyStarts
{
    /// <summary>
    /// Creates <paramref name="run"/> as <see cref="IWorkflowStore.CreateRunAsync"/> does — same result, same rules —
    /// but commits without waiting for the disk: other readers see the run at once, and until
    /// <see cref="EnsureStartDurableAsync"/> returns, a crash of the database server may lose it.
    /// </summary>
    /// <param name="run">The run to create, held by its starter's worker (<see cref="RunRecord.Owner"/> set).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The stored run and whether this call created it.</returns>
    Task<(RunRecord Run, bool Created)> CreateRunEarlyAsync(RunRecord run, CancellationToken cancellationToken);

    /// <summary>
    /// Creates <paramref name="run"/> already ended with <paramref name="outcome"/>, durably, in one write — for a run
    /// that began in memory and ended before anything else of it was written (its end is its first and only write).
    /// Same result and same rules as <see cref="IWorkflowStore.CreateRunAsync"/>: a run whose id is already used is
    /// returned, not created, and nothing of this one is written.
    /// </summary>
    /// <param name="run">The run as it started, held by its starter's worker (<see cref="RunRecord.Owner"/> set).</param>
    /// <param name="outcome">How it ended; not a continue-as-new (that writes a second run).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The stored run and whether this call created it.</returns>
    Task<(RunRecord Run, bool Created)> CreateEndedRunAsync(RunRecord run, RunOutcome outcome, CancellationToken cancellationToken);

    /// <summary>
    /// Waits until everything committed before this call — the early start of run <paramref name="workflowId"/> among
    /// it — is on disk, sharing a flush with the journal writes in flight.
    /// </summary>
    /// <param name="workflowId">The run started early.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns><see langword="false"/> when the run no longer exists: the server restarted before the start was flushed.</returns>
    Task<bool> EnsureStartDurableAsync(string workflowId, CancellationToken cancellationToken);
}
