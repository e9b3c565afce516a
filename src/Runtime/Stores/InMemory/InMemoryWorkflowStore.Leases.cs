using Durably.Runtime.Journal;

namespace Durably.Runtime.Stores;

/// <summary>Who runs a run: claims, what can be claimed, unloading, renewals and release.</summary>
public sealed partial class InMemoryWorkflowStore
{
    /// <inheritdoc/>
    public Task<RunLease?> TryClaimAsync(string workflowId, string owner, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            if (!_runs.TryGetValue(workflowId, out var run)
                || run.Status != WorkflowStatus.Running
                || (run.Owner is not null && run.Owner != owner && run.LeaseExpiresAt > now))
            {
                return Task.FromResult<RunLease?>(null);
            }

            var claimed = run with { Owner = owner, Epoch = run.Epoch + 1, LeaseExpiresAt = now + leaseDuration, UpdatedAt = now, WakeAt = null };
            _runs[workflowId] = claimed;
            return Task.FromResult<RunLease?>(new RunLease(workflowId, owner, claimed.Epoch, run.Owner));
        }
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<string>> ListClaimableAsync(string owner, IReadOnlyCollection<WorkflowVersion>? runnable, int limit, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            IReadOnlyList<string> ids = [.. Claimable(owner, runnable, now).Take(limit).Select(r => r.WorkflowId)];
            return Task.FromResult(ids);
        }
    }

    /// <inheritdoc/>
    public Task<ClaimBatch> ClaimRunsAsync(string owner, IReadOnlyCollection<WorkflowVersion>? runnable, IReadOnlyCollection<string> exclude, int limit,
        TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        ArgumentNullException.ThrowIfNull(exclude);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            var claimed = new List<RunLease>();
            foreach (var run in Claimable(owner, runnable, now).Where(r => !exclude.Contains(r.WorkflowId)).Take(limit).ToList())
            {
                var taken = run with { Owner = owner, Epoch = run.Epoch + 1, LeaseExpiresAt = now + leaseDuration, UpdatedAt = now, WakeAt = null };
                _runs[run.WorkflowId] = taken;
                claimed.Add(new RunLease(run.WorkflowId, owner, taken.Epoch, run.Owner));
            }

            // What could become claimable later: an unloaded run's wake time, another worker's lease expiry.
            var next = _runs.Values
                .Where(r => r.Status == WorkflowStatus.Running && (runnable is null || runnable.Contains(new WorkflowVersion(r.WorkflowName, r.Version))))
                .Select(r => r.Owner is null ? (r.WakeAt is { } wake && wake > now && wake != RunRecord.WakeOnSignalOnly ? wake : (DateTimeOffset?)null)
                    : r.Owner != owner && r.LeaseExpiresAt > now ? r.LeaseExpiresAt : null)
                .Min();
            var loaded = claimed.ToDictionary(c => c.WorkflowId, c => new RunSnapshot(_runs[c.WorkflowId], [.. _journals[c.WorkflowId].Values]), StringComparer.Ordinal);
            return Task.FromResult(new ClaimBatch(claimed, next - now, loaded));
        }
    }

    /// <summary>The active runs <paramref name="owner"/> could claim at <paramref name="now"/>, oldest first. Call under the lock.</summary>
    private IEnumerable<RunRecord> Claimable(string owner, IReadOnlyCollection<WorkflowVersion>? runnable, DateTimeOffset now)
        => _runs.Values
            .Where(r => r.Status == WorkflowStatus.Running
                && ((r.Owner is null && (r.WakeAt is null || r.WakeAt <= now)) || (r.Owner is not null && (r.Owner == owner || r.LeaseExpiresAt <= now)))
                && (runnable is null || runnable.Contains(new WorkflowVersion(r.WorkflowName, r.Version))))
            .OrderBy(r => r.CreatedAt)
            .ThenBy(r => r.WorkflowId, StringComparer.Ordinal);

    /// <inheritdoc/>
    public Task<IReadOnlyList<ActiveWorkflowVersion>> ListActiveVersionsAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            IReadOnlyList<ActiveWorkflowVersion> versions = [.. _runs.Values
                .Where(r => r.Status == WorkflowStatus.Running)
                .GroupBy(r => (Workflow: new WorkflowVersion(r.WorkflowName, r.Version), r.Fingerprint))
                .OrderBy(g => g.Key.Workflow.Name, StringComparer.Ordinal).ThenBy(g => g.Key.Workflow.Version).ThenBy(g => g.Key.Fingerprint, StringComparer.Ordinal)
                .Select(g => new ActiveWorkflowVersion(g.Key.Workflow, g.Count(),
                    g.Count(r => (r.Owner is null && (r.WakeAt is null || r.WakeAt <= now)) || (r.Owner is not null && r.LeaseExpiresAt <= now)),
                    g.Min(r => r.CreatedAt),
                    _advertised.Values.Any(a => a.Until > now && a.Runnable.Contains(g.Key.Workflow)),
                    g.Key.Fingerprint))];
            return Task.FromResult(versions);
        }
    }

    /// <inheritdoc/>
    public Task AdvertiseAsync(string worker, IReadOnlyCollection<WorkflowVersion> runnable, TimeSpan ttl, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(worker);
        ArgumentNullException.ThrowIfNull(runnable);
        lock (_gate)
        {
            _advertised[worker] = ([.. runnable], ttl <= TimeSpan.Zero ? DateTimeOffset.MinValue : _time.GetUtcNow() + ttl);
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task<DateTimeOffset?> GetNextWakeAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_runs.Values
                .Where(r => r.Status == WorkflowStatus.Running && r.Owner is null && r.WakeAt is { } at && at != RunRecord.WakeOnSignalOnly)
                .Select(r => r.WakeAt)
                .Min());
        }
    }

    /// <inheritdoc/>
    public Task<SuspendOutcome> SuspendAsync(RunLease lease, DateTimeOffset wakeAt, IReadOnlyCollection<string> signalNames, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(signalNames);
        lock (_gate)
        {
            if (!IsHeld(lease, out var run))
            {
                return Task.FromResult(SuspendOutcome.Fenced);
            }

            if (run.IsCancelRequested)
            {
                return Task.FromResult(SuspendOutcome.CancelRequested);
            }

            if (_signals[lease.WorkflowId].Exists(s => s.TakenBy is null && signalNames.Contains(s.Record.Name)))
            {
                return Task.FromResult(SuspendOutcome.SignalWaiting);
            }

            if (AwaitedChildEnded(lease.WorkflowId))
            {
                return Task.FromResult(SuspendOutcome.ChildEnded);
            }

            _runs[lease.WorkflowId] = run with { Owner = null, LeaseExpiresAt = null, WakeAt = wakeAt, UpdatedAt = _time.GetUtcNow() };
            return Task.FromResult(SuspendOutcome.Suspended);
        }
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<HeldRun>> RenewLeasesAsync(string owner, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            var held = new List<HeldRun>();
            foreach (var run in _runs.Values.Where(r => r.Status == WorkflowStatus.Running && r.Owner == owner).ToList())
            {
                _runs[run.WorkflowId] = run with { LeaseExpiresAt = now + leaseDuration, UpdatedAt = now };
                held.Add(new HeldRun(run.WorkflowId, run.Epoch, run.IsCancelRequested));
            }

            return Task.FromResult<IReadOnlyList<HeldRun>>(held);
        }
    }

    /// <inheritdoc/>
    public Task ReleaseAsync(RunLease lease, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (IsHeld(lease, out var run))
            {
                _runs[lease.WorkflowId] = run with { Owner = null, LeaseExpiresAt = null, UpdatedAt = _time.GetUtcNow() };
            }

            return Task.CompletedTask;
        }
    }

    /// <summary>
    /// Whether <paramref name="lease"/> is current on an active run — and, when it is, writes the status the run staged
    /// (every fenced write checks here first, so the status rides on the run's next write). Call under the lock.
    /// </summary>
    private bool IsHeld(RunLease lease, out RunRecord run)
    {
        var held = _runs.TryGetValue(lease.WorkflowId, out run!)
            && run.Status == WorkflowStatus.Running
            && run.Owner == lease.Owner
            && run.Epoch == lease.Epoch;
        if (held)
        {
            WriteStagedStatus(lease);
        }

        return held;
    }
}
