using Durably.Runtime.Journal;

namespace Durably.Runtime.Stores;

/// <summary>Runs' statuses and steps' progress: a status is written by the run's next write under the lock.</summary>
public sealed partial class InMemoryWorkflowStore : IWorkflowStoreRunStatus
{
    private readonly StagedStatuses _stagedStatuses = new();
    private readonly Dictionary<string, RunStatusRecord> _runStatus = new(StringComparer.Ordinal);

    /// <inheritdoc/>
    public void StageStatus(RunLease lease, string? statusJson) => _stagedStatuses.Stage(lease, statusJson);

    /// <inheritdoc/>
    public Task<bool> WriteProgressAsync(RunLease lease, string progressJson, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(progressJson);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (!IsHeld(lease, out _))
            {
                return Task.FromResult(false);
            }

            _runStatus[lease.WorkflowId] = StatusOf(lease.WorkflowId) with { ProgressJson = progressJson, ProgressUpdatedAt = _time.GetUtcNow() };
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc/>
    public Task<RunStatusRecord?> GetRunStatusAsync(string workflowId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workflowId);
        lock (_gate)
        {
            return Task.FromResult(_runStatus.GetValueOrDefault(workflowId));
        }
    }

    /// <summary>Writes the status the held run staged, if any: every fenced write does, under the lock, once the lease is checked.</summary>
    private void WriteStagedStatus(RunLease lease)
    {
        var staged = _stagedStatuses.Take(lease);
        if (staged is null)
        {
            return;
        }

        var current = StatusOf(lease.WorkflowId);
        if (current.StatusUpdatedAt is null || !string.Equals(current.StatusJson, staged.Json, StringComparison.Ordinal))
        {
            _runStatus[lease.WorkflowId] = current with { StatusJson = staged.Json, StatusUpdatedAt = _time.GetUtcNow() };
        }

        _stagedStatuses.Done(staged, committed: true);
    }

    private RunStatusRecord StatusOf(string workflowId) => _runStatus.GetValueOrDefault(workflowId) ?? new RunStatusRecord(workflowId, null, null, null, null);
}
