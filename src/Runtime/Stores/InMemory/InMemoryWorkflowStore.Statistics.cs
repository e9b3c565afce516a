using Durably.Runtime.Journal;

namespace Durably.Runtime.Stores;

/// <summary>Counts for operators.</summary>
public sealed partial class InMemoryWorkflowStore : IWorkflowStoreStatistics
{
    /// <inheritdoc/>
    public Task<IReadOnlyList<RunCount>> CountRunsAsync(DateTimeOffset? finishedSince, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            IReadOnlyList<RunCount> counts = [.. _runs.Values
                .Where(r => finishedSince is not { } since || (r.Status != WorkflowStatus.Running && r.UpdatedAt >= since))
                .GroupBy(r => (r.Status, r.WorkflowName))
                .Select(g => new RunCount(g.Key.WorkflowName, g.Key.Status, g.LongCount()))
                .OrderBy(c => c.Status).ThenBy(c => c.WorkflowName, StringComparer.Ordinal)];
            return Task.FromResult(counts);
        }
    }
}
