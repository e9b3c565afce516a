using Durably.Runtime.Journal;

namespace Durably.Runtime.Stores;

/// <summary>The journal: attempts, retries, outcomes and the run's end — every write under the lock, with the lease checked.</summary>
public sealed partial class InMemoryWorkflowStore
{
    /// <inheritdoc/>
    public Task<JournalWriteResult> RecordAttemptAsync(RunLease lease, JournalEntry entry, JournalDurability durability, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        // A compensation is how a cancelled run is rolled back: it is not new work, so a cancel does not stop it; nor
        // does it refuse a row sent as the body started (pipelined): that work is under way.
        return WriteEntry(lease, entry.Sequence, startsWork: entry.Kind != OperationKind.Compensation && durability != JournalDurability.Pipelined, stored => stored is null
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
            // An attempt whose row is still on its way (pipelined) counts already.
            Attempts = Math.Max(stored.Attempts, entry.Attempts),
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
            TellParent(lease.WorkflowId, outcome.Status, outcome.Continuation?.WorkflowId);
            return Task.FromResult(true);
        }
    }
}
