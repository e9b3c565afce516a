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

    /// <inheritdoc/>
    public Task<IReadOnlyList<WorkerRecord>> ListWorkersAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            IReadOnlyList<WorkerRecord> workers = [.. _advertised
                .OrderBy(a => a.Key, StringComparer.Ordinal)
                .Select(a =>
                {
                    var held = _runs.Values.Where(r => r.Status == WorkflowStatus.Running && r.Owner == a.Key).ToList();
                    return new WorkerRecord(a.Key, [.. a.Value.Item1], a.Value.Item2 == DateTimeOffset.MinValue ? null : a.Value.Item2, null,
                        held.Count == 0 ? null : held.Max(r => r.LeaseExpiresAt), held.Count);
                })];
            return Task.FromResult(workers);
        }
    }
}
