namespace Durably.Runtime.Journal;

/// <summary>
/// A store that can run a step attempt in a transaction of its own database, so that the step's writes and its
/// completed journal row commit together (<c>[Step(Transactional = true)]</c>). The engine only carries the
/// <see cref="StepTransaction"/> between the two calls.
/// </summary>
internal interface ITransactionalStepStore
{
    /// <summary>Opens a connection to the journal's database and begins a transaction on it.</summary>
    /// <param name="cancellationToken">Cancels the opening.</param>
    /// <returns>The transaction, owned by the caller.</returns>
    Task<StepTransaction> BeginStepTransactionAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Writes the step's terminal row as the last statement of <paramref name="transaction"/>, fenced like
    /// <see cref="IWorkflowStore.CompleteEntryAsync"/>, and commits when the row was written; otherwise (fenced, or the
    /// row was terminal already) rolls back. Not retried: should the commit's outcome be unknown, the exception says so
    /// and the journal tells the next execution which way it went.
    /// </summary>
    /// <param name="lease">The writer's lease.</param>
    /// <param name="entry">The terminal row.</param>
    /// <param name="transaction">The attempt's transaction, begun by this store; disposed here.</param>
    /// <param name="cancellationToken">Cancels the write (before the commit).</param>
    /// <returns>As <see cref="IWorkflowStore.CompleteEntryAsync"/>.</returns>
    Task<JournalWriteResult> CommitStepAsync(RunLease lease, JournalEntry entry, StepTransaction transaction, CancellationToken cancellationToken);
}
