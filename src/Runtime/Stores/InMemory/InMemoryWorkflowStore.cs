using Durably.Runtime.Journal;

namespace Durably.Runtime.Stores.InMemory;

/// <summary>
/// A real store kept in process memory, with the same semantics as the durable stores (leases, epochs, write-once
/// terminal rows). For unit tests of workflows, and for a journal that may be lost with the process.
/// </summary>
public sealed class InMemoryWorkflowStore : IWorkflowStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, RunRecord> _runs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortedDictionary<long, JournalEntry>> _journals = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<StoredSignal>> _signals = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    /// <summary>Creates an empty store.</summary>
    /// <param name="timeProvider">The clock that judges leases; <see cref="TimeProvider.System"/> when null.</param>
    public InMemoryWorkflowStore(TimeProvider? timeProvider = null) => _time = timeProvider ?? TimeProvider.System;

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
    public Task<IReadOnlyList<string>> ListClaimableAsync(string owner, int limit, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            IReadOnlyList<string> ids = [.. _runs.Values
                .Where(r => r.Status == WorkflowStatus.Running
                    && ((r.Owner is null && (r.WakeAt is null || r.WakeAt <= now)) || (r.Owner is not null && (r.Owner == owner || r.LeaseExpiresAt <= now))))
                .OrderBy(r => r.CreatedAt)
                .ThenBy(r => r.WorkflowId, StringComparer.Ordinal)
                .Take(limit)
                .Select(r => r.WorkflowId)];
            return Task.FromResult(ids);
        }
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

            _runs[lease.WorkflowId] = run with { Owner = null, LeaseExpiresAt = null, WakeAt = wakeAt, UpdatedAt = _time.GetUtcNow() };
            return Task.FromResult(SuspendOutcome.Suspended);
        }
    }

    /// <inheritdoc/>
    public Task<LeaseRenewal> RenewAsync(RunLease lease, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!IsHeld(lease, out var run))
            {
                return Task.FromResult(LeaseRenewal.Lost);
            }

            var now = _time.GetUtcNow();
            _runs[lease.WorkflowId] = run with { LeaseExpiresAt = now + leaseDuration, UpdatedAt = now };
            return Task.FromResult(run.IsCancelRequested ? LeaseRenewal.CancelRequested : LeaseRenewal.Renewed);
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

    /// <inheritdoc/>
    public Task<JournalWriteResult> RecordAttemptAsync(RunLease lease, JournalEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        // A compensation is how a cancelled run is rolled back: it is not new work, so a cancel does not stop it.
        return WriteEntry(lease, entry.Sequence, startsWork: entry.Kind != OperationKind.Compensation, stored => stored is null
            ? entry with { State = JournalEntryState.Attempting, Attempts = 1 }
            : stored with { Attempts = stored.Attempts + 1, RetryAt = null });
    }

    /// <inheritdoc/>
    public Task<JournalWriteResult> CompleteEntryAsync(RunLease lease, JournalEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (!entry.IsTerminal)
        {
            throw new ArgumentException($"Journal row {entry.Sequence} of run '{entry.WorkflowId}' is {entry.State}, not terminal.", nameof(entry));
        }

        // The outcome is added to the row the attempts built; what they recorded stays.
        return WriteEntry(lease, entry.Sequence, startsWork: false, stored => stored is null ? entry : stored with
        {
            State = entry.State,
            OutputJson = entry.OutputJson,
            Error = entry.Error,
            CompletionIndex = entry.CompletionIndex,
            CompletedAt = entry.CompletedAt,
            RetryAt = null,
        });
    }

    /// <inheritdoc/>
    public Task<JournalWriteResult> ScheduleRetryAsync(RunLease lease, JournalEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return WriteEntry(lease, entry.Sequence, startsWork: false, stored => (stored ?? entry) with { Error = entry.Error, RetryAt = entry.RetryAt });
    }

    /// <summary>
    /// The one journal write: under the lock, with the lease checked, never touching a terminal row (which is
    /// returned as stored) nor, when it <paramref name="startsWork"/>, a run with a cancel requested; otherwise stores
    /// what <paramref name="next"/> makes of the current row (null if none).
    /// </summary>
    private Task<JournalWriteResult> WriteEntry(RunLease lease, long sequence, bool startsWork, Func<JournalEntry?, JournalEntry> next)
    {
        lock (_gate)
        {
            if (!IsHeld(lease, out var run))
            {
                return Task.FromResult(JournalWriteResult.FencedOut);
            }

            if (startsWork && run.IsCancelRequested)
            {
                return Task.FromResult(JournalWriteResult.Cancelled);
            }

            var journal = _journals[lease.WorkflowId];
            var stored = journal.GetValueOrDefault(sequence);
            if (stored is { IsTerminal: true })
            {
                return Task.FromResult(new JournalWriteResult(stored, false, run.IsCancelRequested));
            }

            var written = next(stored);
            journal[sequence] = written;
            return Task.FromResult(new JournalWriteResult(written, false, run.IsCancelRequested));
        }
    }

    /// <inheritdoc/>
    public Task<bool> CompleteRunAsync(RunLease lease, RunOutcome outcome, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        lock (_gate)
        {
            if (!IsHeld(lease, out var run))
            {
                return Task.FromResult(false);
            }

            if (outcome.Continuation is { } next)
            {
                if (_runs.ContainsKey(next.WorkflowId))
                {
                    throw new DurableStoreException($"Run '{lease.WorkflowId}' cannot continue as new: id '{next.WorkflowId}' is already taken.");
                }

                _runs.Add(next.WorkflowId, next);
                _journals.Add(next.WorkflowId, []);
                var untaken = _signals[lease.WorkflowId].Where(s => s.TakenBy is null).ToList();
                _signals[lease.WorkflowId].RemoveAll(untaken.Contains);
                _signals.Add(next.WorkflowId, [.. untaken.Select(s => new StoredSignal(s.Record with { WorkflowId = next.WorkflowId }))]);
            }

            _runs[lease.WorkflowId] = run with
            {
                Status = outcome.Status,
                OutputJson = outcome.OutputJson,
                Error = outcome.Error,
                FailedSequence = outcome.FailedSequence,
                Owner = null,
                LeaseExpiresAt = null,
                UpdatedAt = _time.GetUtcNow(),
            };
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc/>
    public Task<SignalSendOutcome> AddSignalAsync(SignalRecord signal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(signal);
        lock (_gate)
        {
            if (!_runs.TryGetValue(signal.WorkflowId, out var run))
            {
                return Task.FromResult(SignalSendOutcome.RunNotFound);
            }

            var signals = _signals[signal.WorkflowId];
            if (signals.Exists(s => s.Record.SignalId == signal.SignalId))
            {
                return Task.FromResult(SignalSendOutcome.Duplicate);
            }

            if (run.Status != WorkflowStatus.Running)
            {
                return Task.FromResult(SignalSendOutcome.RunFinished);
            }

            signals.Add(new StoredSignal(signal));
            _runs[signal.WorkflowId] = run with { WakeAt = null };
            return Task.FromResult(SignalSendOutcome.Accepted);
        }
    }

    /// <inheritdoc/>
    public Task<CancelRequestOutcome> RequestCancelAsync(string workflowId, string reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reason);
        lock (_gate)
        {
            if (!_runs.TryGetValue(workflowId, out var run))
            {
                return Task.FromResult(CancelRequestOutcome.RunNotFound);
            }

            if (run.Status != WorkflowStatus.Running)
            {
                return Task.FromResult(CancelRequestOutcome.RunFinished);
            }

            if (run.IsCancelRequested)
            {
                return Task.FromResult(CancelRequestOutcome.AlreadyRequested);
            }

            _runs[workflowId] = run with { CancelReason = reason, WakeAt = null, UpdatedAt = _time.GetUtcNow() };
            return Task.FromResult(CancelRequestOutcome.Requested);
        }
    }

    /// <inheritdoc/>
    public Task<RunRecord?> ReviveDeadLetterAsync(string workflowId, string? cancelReason, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_runs.TryGetValue(workflowId, out var run) || run.Status != WorkflowStatus.DeadLettered)
            {
                return Task.FromResult(run);
            }

            if (HolderOf(run.WorkflowName, run.InstanceKey, except: workflowId) is { } holder)
            {
                throw new WorkflowInstanceActiveException(run.WorkflowName, run.InstanceKey!, holder.WorkflowId);
            }

            var now = _time.GetUtcNow();
            var journal = _journals[workflowId];
            if (run.FailedSequence is { } sequence
                && journal.TryGetValue(sequence, out var failed)
                && failed.State == JournalEntryState.Failed
                && (cancelReason is null || failed.Kind == OperationKind.Compensation))
            {
                journal[sequence] = failed with { State = JournalEntryState.Attempting, Attempts = 0, CompletionIndex = null, CompletedAt = null, RetryAt = now };
            }

            _runs[workflowId] = run with
            {
                Status = WorkflowStatus.Running,
                Error = null,
                OutputJson = null,
                FailedSequence = null,
                Owner = null,
                LeaseExpiresAt = null,
                WakeAt = null,
                CancelReason = run.CancelReason ?? cancelReason,
                UpdatedAt = now,
            };
            return Task.FromResult<RunRecord?>(run);
        }
    }

    /// <inheritdoc/>
    public Task<JournalWriteResult> TakeSignalAsync(RunLease lease, JournalEntry completed, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(completed);
        lock (_gate)
        {
            if (!IsHeld(lease, out var run))
            {
                return Task.FromResult(JournalWriteResult.FencedOut);
            }

            if (run.IsCancelRequested)
            {
                return Task.FromResult(JournalWriteResult.Cancelled);
            }

            var journal = _journals[lease.WorkflowId];
            var stored = journal.GetValueOrDefault(completed.Sequence);
            if (stored is { IsTerminal: true })
            {
                return Task.FromResult(new JournalWriteResult(stored, false));
            }

            var signal = _signals[lease.WorkflowId].Find(s => s.TakenBy is null && s.Record.Name == name);
            if (signal is null)
            {
                return Task.FromResult(new JournalWriteResult(null, false));
            }

            signal.TakenBy = completed.Sequence;
            var written = (stored ?? completed) with
            {
                State = JournalEntryState.Completed,
                OutputJson = signal.Record.PayloadJson,
                Error = null,
                CompletionIndex = completed.CompletionIndex,
                CompletedAt = completed.CompletedAt,
                RetryAt = null,
            };
            journal[completed.Sequence] = written;
            return Task.FromResult(new JournalWriteResult(written, false));
        }
    }

    private sealed class StoredSignal(SignalRecord record)
    {
        public SignalRecord Record { get; } = record;

        public long? TakenBy { get; set; }
    }

    /// <summary>Whether <paramref name="lease"/> is current on an active run. Call under the lock.</summary>
    private bool IsHeld(RunLease lease, out RunRecord run)
        => _runs.TryGetValue(lease.WorkflowId, out run!)
            && run.Status == WorkflowStatus.Running
            && run.Owner == lease.Owner
            && run.Epoch == lease.Epoch;
}
