using Durably.Runtime.Journal;

namespace Durably.Runtime.Stores;

/// <summary>What reaches a run from outside: signals, cancel requests and the revival of dead letters.</summary>
public sealed partial class InMemoryWorkflowStore
{
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

            if (run.Status is not (WorkflowStatus.Running or WorkflowStatus.DeadLettered))
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
            CancelDescendants(workflowId, reason);
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
}
