using Durably.Runtime.Engine;
using Durably.Runtime.Journal;
using Durably.Runtime.Replay.Operations;

namespace Durably.Runtime.Replay;

/// <summary>
/// How outcomes reach the run method: from the journal while replaying (in the recorded completion order), then live —
/// journaled by the loop with the next completion index, and only then delivered.
/// </summary>
internal sealed partial class RunExecution<TWorkflow, TInput, TOutput>
{
    /// <summary>Delivers the next journaled outcome, which the run method must have asked for by now.</summary>
    private void DeliverFromJournal(JournalEntry recorded)
    {
        if (!_pending.Remove(recorded.Sequence, out var operation))
        {
            SetFatal(_cursor.Uncalled(recorded, runMethodReturned: _runTask!.IsCompleted), WorkflowStatus.DeadLettered);
            return;
        }

        _cursor.Delivered();
        Deliver(operation, recorded);
    }

    /// <summary>Replay has delivered every journaled outcome: check nothing journaled went uncalled, then go live.</summary>
    private void EndReplay()
    {
        if (_cursor.EndReplay() is { } uncalled)
        {
            SetFatal(uncalled, WorkflowStatus.DeadLettered);
            return;
        }

        StageReplayedStatus();
        if (_engine.ReplayOnly)
        {
            // The replayer's check is done: the journal ends here, and nothing live may start.
            _replayVerified = true;
            Post(ExecutionEvent.WorkPosted);
            return;
        }

        foreach (var operation in _awaitingStart)
        {
            operation.Start();
        }

        _awaitingStart.Clear();
    }

    private async Task<bool> JournalAndDeliverAsync(OperationFinished finished, CancellationToken cancellationToken)
    {
        // A signal wait's timeout can arrive after a signal completed the wait: the first outcome stands.
        if (!_pending.TryGetValue(finished.Entry.Sequence, out var current) || !ReferenceEquals(current, finished.Operation))
        {
            if (finished.Transaction is { } unused)
            {
                await unused.DisposeAsync().ConfigureAwait(false);
            }

            return true;
        }

        _signalWaits.Remove(finished.Entry.Sequence);
        var entry = finished.Entry with
        {
            CompletionIndex = _cursor.TakeCompletionIndex(),
            CompletedAt = _engine.UtcNow(),
        };
        // A transactional step's writes commit with its journal row, the fenced update last in their transaction.
        var written = finished.Transaction is { } transaction
            ? await _engine.TransactionalStore!.CommitStepAsync(_lease, entry, transaction, cancellationToken).ConfigureAwait(false)
            : await _engine.Store.CompleteEntryAsync(_lease, entry, cancellationToken).ConfigureAwait(false);
        if (finished.PendingAttempt is { } attempt)
        {
            // The attempting row sent with the body is superseded by the outcome just written (whatever became of it:
            // written before, refused after, or failed); waited for so that no write of this execution outlives it.
            await ((Task)attempt).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        if (written.Fenced)
        {
            return false;
        }

        _earlyStart?.Satisfied();
        if (entry.Kind == OperationKind.Step)
        {
            // Journaled, not yet delivered to the run method.
            await _engine.AtCrashSiteAsync(CrashSiteKind.AfterStepJournaled, WorkflowId, entry.OperationId, entry.Sequence, entry.Attempts).ConfigureAwait(false);
        }

        if (entry.Kind == OperationKind.Step && written.Entry?.CompletionIndex == entry.CompletionIndex)
        {
            _engine.Telemetry.StepJournaled(_definition.Name, entry.OperationId, entry.State == JournalEntryState.Completed);
        }

        if (written.CancelRequested)
        {
            // The outcome is journaled (the work was done) but not delivered: the run stops here.
            RequestStop();
            return true;
        }

        _pending.Remove(entry.Sequence);
        _cursor.Journaled(written.Entry!);
        _changes++;
        Deliver(finished.Operation, written.Entry!);
        return true;
    }

    private void Deliver(Operation operation, JournalEntry terminal)
    {
        _now = terminal.CompletedAt ?? _now;
        // Outside the scheduler: awaits in the run method post their continuations to it (and run at the next drain);
        // a ConfigureAwait(false) continuation runs here, off the scheduler, where its next durable call is caught.
        RunScheduler.RunOutside(() =>
        {
            try
            {
                operation.Deliver(terminal);
            }
            catch (PayloadException ex)
            {
                SetFatal(new PayloadException($"The journal of {RunName} cannot be read at sequence {terminal.Sequence} ({ReplayCursor.Describe(terminal)}): {ex.Message}", ex.PayloadType, ex), WorkflowStatus.DeadLettered);
            }
        });
    }
}
