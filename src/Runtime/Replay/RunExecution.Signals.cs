using Durably.Runtime.Replay.Operations;

namespace Durably.Runtime.Replay;

/// <summary>
/// Signals: a wait looks for its signal once journaled, and again whenever one may have arrived (a notification, a
/// poll); the store hands a signal over and completes the wait's row in one write.
/// </summary>
internal sealed partial class RunExecution<TWorkflow, TInput, TOutput>
{
    private readonly SortedDictionary<long, WaitOperation> _signalWaits = [];

    /// <summary>A wait's row is journaled: it counts as quiescent, and a signal wait looks for its signal at once.</summary>
    private async Task<bool> OnWaitReadyAsync(WaitOperation wait, CancellationToken cancellationToken)
    {
        wait.IsReady = true;
        _changes++;
        if (wait.SignalName is null)
        {
            return true;
        }

        _signalWaits[wait.Sequence] = wait;
        return await TakeSignalAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A signal or a cancel may have been stored for the run: with live signal waits, they look for their signals (each
    /// write also reports a cancel); without, the run's row is read for a cancel request.
    /// </summary>
    private async Task<bool> LookForNewsAsync(CancellationToken cancellationToken)
    {
        if (_signalWaits.Any(w => _pending.TryGetValue(w.Key, out var operation) && ReferenceEquals(operation, w.Value)))
        {
            return await TakeSignalAsync(cancellationToken).ConfigureAwait(false);
        }

        if ((await _engine.Store.GetRunAsync(WorkflowId, cancellationToken).ConfigureAwait(false))?.IsCancelRequested == true)
        {
            RequestStop();
        }

        return true;
    }

    /// <summary>
    /// Gives the first signal wait (by sequence) that a signal is waiting for its signal, journaled in the same write. One
    /// delivery per call, so that the run method drains between deliveries as it does on replay; when one was made,
    /// the loop is asked to look again. Returns false when the writer was fenced.
    /// </summary>
    private async Task<bool> TakeSignalAsync(CancellationToken cancellationToken)
    {
        foreach (var (sequence, wait) in _signalWaits.ToList())
        {
            if (!_pending.TryGetValue(sequence, out var operation) || !ReferenceEquals(operation, wait))
            {
                _signalWaits.Remove(sequence);
                continue;
            }

            if (wait.DueAt <= _engine.Time.GetUtcNow())
            {
                // Its deadline has passed on the engine's clock: the wait has timed out (the wait posts that itself), and a
                // signal stored meanwhile is left for a later wait — whichever comes first, deadline or taken signal, stands.
                continue;
            }

            var completed = wait.Entry! with { State = Journal.JournalEntryState.Completed, CompletionIndex = _cursor.NextCompletionIndex, CompletedAt = _engine.UtcNow() };
            var taken = await _engine.Store.TakeSignalAsync(_lease, completed, wait.SignalName!, cancellationToken).ConfigureAwait(false);
            if (taken.Fenced)
            {
                return false;
            }

            if (taken.CancelRequested)
            {
                RequestStop();
                return true;
            }

            if (taken.Entry is not { } entry)
            {
                continue;
            }

            _cursor.CompletedAt(entry.CompletionIndex ?? _cursor.NextCompletionIndex);
            _signalWaits.Remove(sequence);
            _pending.Remove(sequence);
            _changes++;
            Deliver(operation, entry);
            Post(ExecutionEvent.SignalsMayHaveArrived);
            return true;
        }

        return true;
    }
}
