using Durably.Runtime.Journal;

namespace Durably.Runtime.Stores;

/// <summary>Runs created with their journal, under the lock.</summary>
public sealed partial class InMemoryWorkflowStore : IWorkflowStoreReruns
{
    /// <inheritdoc/>
    public Task<bool> CreateRunWithJournalAsync(RunRecord run, IReadOnlyList<JournalEntry> journal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(journal);
        lock (_gate)
        {
            if (_runs.ContainsKey(run.WorkflowId))
            {
                return Task.FromResult(false);
            }

            _runs.Add(run.WorkflowId, run);
            _journals.Add(run.WorkflowId, new SortedDictionary<long, JournalEntry>(journal.ToDictionary(e => e.Sequence, e => e with { WorkflowId = run.WorkflowId })));
            _signals.Add(run.WorkflowId, []);
            return Task.FromResult(true);
        }
    }
}
