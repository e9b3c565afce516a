using Durably.Runtime.Journal;

namespace Durably.Runtime.Stores;

/// <summary>Runs: start, read, list and load (a run with its journal, in one read).</summary>
public sealed partial class InMemoryWorkflowStore
{
    /// <inheritdoc/>
    public Task<(RunRecord Run, bool Created)> CreateRunAsync(RunRecord run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        lock (_gate)
        {
            if (_runs.TryGetValue(run.WorkflowId, out var existing))
            {
                return Task.FromResult((existing, false));
            }

            if (HolderOf(run.WorkflowName, run.InstanceKey) is { } holder)
            {
                return Task.FromResult((holder, false));
            }

            _runs.Add(run.WorkflowId, run);
            _journals.Add(run.WorkflowId, []);
            _signals.Add(run.WorkflowId, []);
            return Task.FromResult((run, true));
        }
    }

    /// <summary>The active run of <paramref name="workflowName"/> that holds <paramref name="instanceKey"/>; call under the lock.</summary>
    private RunRecord? HolderOf(string workflowName, string? instanceKey, string? except = null)
        => instanceKey is null ? null
            : _runs.Values.FirstOrDefault(r => r.Status == WorkflowStatus.Running && r.InstanceKey == instanceKey && r.WorkflowName == workflowName && r.WorkflowId != except);

    /// <inheritdoc/>
    public Task<RunRecord?> GetRunAsync(string workflowId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_runs.GetValueOrDefault(workflowId));
        }
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<RunRecord>> ListRunsAsync(RunListQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        lock (_gate)
        {
            IReadOnlyList<RunRecord> page = [.. _runs.Values
                .Where(r => (query.WorkflowName is null || r.WorkflowName == query.WorkflowName)
                    && (query.Status is null || r.Status == query.Status)
                    && (query.Version is null || r.Version == query.Version)
                    && (query.InstanceKey is null || r.InstanceKey == query.InstanceKey)
                    && (query.CreatedFrom is null || r.CreatedAt >= query.CreatedFrom)
                    && (query.CreatedBefore is null || r.CreatedAt < query.CreatedBefore)
                    && (query.After is not { } after
                        || r.CreatedAt < after.CreatedAt
                        || (r.CreatedAt == after.CreatedAt && string.CompareOrdinal(r.WorkflowId, after.WorkflowId) < 0)))
                .OrderByDescending(r => r.CreatedAt)
                .ThenByDescending(r => r.WorkflowId, StringComparer.Ordinal)
                .Take(query.Limit)];
            return Task.FromResult(page);
        }
    }

    /// <inheritdoc/>
    public Task<RunSnapshot?> LoadAsync(string workflowId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_runs.TryGetValue(workflowId, out var run)
                ? new RunSnapshot(run, [.. _journals[workflowId].Values])
                : null);
        }
    }
}
