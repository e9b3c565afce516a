using Durably.Runtime.Journal;

namespace Durably.Runtime.Stores;

/// <summary>Child runs: each linked to its parent; a child's end wakes an unloaded parent under the same lock.</summary>
public sealed partial class InMemoryWorkflowStore : IWorkflowStoreChildren
{
    private readonly Dictionary<string, ChildLink> _parents = new(StringComparer.Ordinal);

    /// <inheritdoc/>
    public Task<(RunRecord Run, bool Created)> CreateChildRunAsync(RunRecord child, ChildLink link, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(child);
        ArgumentNullException.ThrowIfNull(link);
        lock (_gate)
        {
            if (_runs.TryGetValue(child.WorkflowId, out var existing))
            {
                return Task.FromResult((existing, false));
            }

            _runs.Add(child.WorkflowId, child);
            _journals.Add(child.WorkflowId, []);
            _signals.Add(child.WorkflowId, []);
            _parents[child.WorkflowId] = link with { ChildId = child.WorkflowId };
            if (!link.AbandonOnParentCancel && _runs.TryGetValue(link.ParentId, out var parent) && parent.CancelReason is { } reason)
            {
                // A parent cancelled meanwhile: the child starts cancelled, as if it had been there when the cancel came.
                child = child with { CancelReason = ChildLink.CancelReasonOf(link.ParentId, reason) };
                _runs[child.WorkflowId] = child;
            }

            return Task.FromResult((child, true));
        }
    }

    /// <inheritdoc/>
    public Task<ChildLink?> GetParentAsync(string childId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_parents.GetValueOrDefault(childId));
        }
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<ChildLink>> GetParentsAsync(IReadOnlyCollection<string> childIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(childIds);
        lock (_gate)
        {
            IReadOnlyList<ChildLink> links = [.. childIds.Distinct(StringComparer.Ordinal).Select(id => _parents.GetValueOrDefault(id)).OfType<ChildLink>()];
            return Task.FromResult(links);
        }
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<ChildLink>> ListChildrenAsync(string parentId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            IReadOnlyList<ChildLink> children = [.. _parents.Values.Where(l => l.ParentId == parentId).OrderBy(l => l.ParentSequence).ThenBy(l => l.ChildId, StringComparer.Ordinal)];
            return Task.FromResult(children);
        }
    }

    /// <summary>After a run ended (under the lock): wakes its unloaded parent, or hands its link to the run that continues it.</summary>
    private void TellParent(string workflowId, WorkflowStatus status, string? continuation)
    {
        if (!_parents.TryGetValue(workflowId, out var link))
        {
            return;
        }

        if (ChildLink.WakingStatuses.Contains(status))
        {
            if (_runs.TryGetValue(link.ParentId, out var parent) && parent is { Status: WorkflowStatus.Running, WakeAt: not null })
            {
                _runs[link.ParentId] = parent with { WakeAt = null };
            }
        }
        else if (continuation is not null)
        {
            _parents[continuation] = link with { ChildId = continuation };
        }
    }

    /// <summary>Whether a child that one of the run's journal rows still awaits has ended (call under the lock).</summary>
    private bool AwaitedChildEnded(string workflowId)
        => _parents.Values.Any(l => l.ParentId == workflowId
            && _runs.TryGetValue(l.ChildId, out var child) && ChildLink.WakingStatuses.Contains(child.Status)
            && _journals[workflowId].TryGetValue(l.ParentSequence, out var row) && row.State == JournalEntryState.Attempting);

    /// <inheritdoc/>
    public Task<RunRecord?> RollBackChildAsync(string childId, string reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(childId);
        ArgumentNullException.ThrowIfNull(reason);
        lock (_gate)
        {
            if (!_runs.TryGetValue(childId, out var child))
            {
                return Task.FromResult<RunRecord?>(null);
            }

            var now = _time.GetUtcNow();
            if (child.Status == WorkflowStatus.Completed)
            {
                _runs[childId] = child with { Status = WorkflowStatus.Running, OutputJson = null, Owner = null, LeaseExpiresAt = null, WakeAt = null, CancelReason = reason, UpdatedAt = now };
            }
            else if (child is { Status: WorkflowStatus.Running, CancelReason: null })
            {
                _runs[childId] = child with { CancelReason = reason, WakeAt = null, UpdatedAt = now };
                CancelDescendants(childId, reason);
            }

            return Task.FromResult<RunRecord?>(_runs[childId]);
        }
    }

    /// <summary>A parent's cancel reaches its running children and theirs (call under the lock).</summary>
    private void CancelDescendants(string workflowId, string reason)
    {
        var childReason = ChildLink.CancelReasonOf(workflowId, reason);
        var frontier = new Queue<string>([workflowId]);
        while (frontier.TryDequeue(out var parentId))
        {
            foreach (var link in _parents.Values.Where(l => l.ParentId == parentId && !l.AbandonOnParentCancel).ToList())
            {
                frontier.Enqueue(link.ChildId);
                if (_runs.TryGetValue(link.ChildId, out var child) && child is { Status: WorkflowStatus.Running, CancelReason: null })
                {
                    _runs[link.ChildId] = child with { CancelReason = childReason, WakeAt = null, UpdatedAt = _time.GetUtcNow() };
                }
            }
        }
    }

    /// <summary>Forgets the links of a purged run (call under the lock).</summary>
    private void ForgetLinks(string workflowId)
    {
        _parents.Remove(workflowId);
        foreach (var child in _parents.Values.Where(l => l.ParentId == workflowId).Select(l => l.ChildId).ToList())
        {
            _parents.Remove(child);
        }
    }
}
