namespace Durably.Runtime.Journal;

/// <summary>
/// Runs created with a journal already in them: how an operator reruns a run from a step
/// (<c>DurableOperator.RerunFromAsync</c>) — the new run's journal holds the original's rows before that step, and the
/// rest runs on today's code. The built-in stores implement it.
/// </summary>
public interface IWorkflowStoreReruns
{
    /// <summary>
    /// Creates <paramref name="run"/> (unowned, ready for any worker) with <paramref name="journal"/> as its journal, in
    /// one atomic write — no worker can claim the run before its whole journal is there — unless a run with its id
    /// exists. A store with <see cref="IWorkflowStoreEvents"/> tells idle workers of other processes.
    /// </summary>
    /// <param name="run">The new run's row.</param>
    /// <param name="journal">Its journal rows, each with the run's id, all terminal.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns><see langword="false"/> when the id is taken; nothing was written.</returns>
    Task<bool> CreateRunWithJournalAsync(RunRecord run, IReadOnlyList<JournalEntry> journal, CancellationToken cancellationToken);
}
