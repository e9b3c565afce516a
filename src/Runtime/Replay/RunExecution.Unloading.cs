using Durably.Runtime.Engine;
using Durably.Runtime.Journal;
using Durably.Runtime.Replay.Operations;

namespace Durably.Runtime.Replay;

/// <summary>
/// Waiting costs nothing: a run whose pending operations are all journaled waits (timers, signal waits, backoffs) is
/// quiescent, and when its earliest wait ends far enough away it is unloaded — suspended in the store with its wake
/// time and the signals that wake it, and dropped from memory — to be resumed by replay.
/// </summary>
internal sealed partial class RunExecution<TWorkflow, TInput, TOutput>
{
    private long _changes;
    private long _unloadTriedAt = -1;

    /// <summary>A step starts or ends waiting out a journaled backoff (a backoff counts as a wait).</summary>
    private void OnBackoffChanged(BackoffChanged backoff)
    {
        if (_pending.TryGetValue(backoff.Sequence, out var pending) && ReferenceEquals(pending, backoff.Step))
        {
            backoff.Step.BackoffUntil = backoff.Until;
            _changes++;
        }
    }

    /// <summary>
    /// The wake time to unload the run with, when it is quiescent — every pending operation is a wait that is journaled
    /// and has looked for its signal, and no event is queued — and its earliest wait ends later than
    /// <see cref="EngineContext.UnloadThreshold"/> from now. Asked once per change of the pending operations.
    /// </summary>
    private DateTimeOffset? UnloadCandidate()
    {
        if (_pending.Count == 0 || _unloadTriedAt == _changes || _events.Reader.TryPeek(out _) || _engine.UnloadThreshold == Timeout.InfiniteTimeSpan)
        {
            return null;
        }

        var wakeAt = DateTimeOffset.MaxValue;
        foreach (var operation in _pending.Values)
        {
            if (operation.QuiescentUntil is not { } due)
            {
                return null;
            }

            wakeAt = due < wakeAt ? due : wakeAt;
        }

        _unloadTriedAt = _changes;
        return wakeAt - _engine.Time.GetUtcNow() > _engine.UnloadThreshold
            ? (wakeAt > RunRecord.WakeOnSignalOnly ? RunRecord.WakeOnSignalOnly : wakeAt)
            : null;
    }

    /// <summary>Suspends the run in the store; returns the execution's result when it stops here (unloaded or fenced).</summary>
    private async Task<ExecutionResult?> TryUnloadAsync(DateTimeOffset wakeAt, CancellationToken cancellationToken)
    {
        await AttemptsSentAsync().ConfigureAwait(false);
        switch (await _engine.Store.SuspendAsync(_lease, wakeAt, PendingSignalNames(), cancellationToken).ConfigureAwait(false))
        {
            case SuspendOutcome.Suspended:
                // Only waits are pending: stop them and let them end, so nothing of the run stays reachable.
                await _stopping.CancelAsync().ConfigureAwait(false);
                await Task.WhenAll(_pending.Values.Select(o => o.Running)).ConfigureAwait(false);
                return Stopped(ExecutionOutcome.Unloaded);
            case SuspendOutcome.Fenced:
                return Stopped(ExecutionOutcome.Fenced);
            case SuspendOutcome.CancelRequested:
                RequestStop();
                return null;
            case SuspendOutcome.ChildEnded:
                // A child ended before the unload (so its end woke nobody): its wait looks now rather than at its next poll.
                foreach (var child in _pending.Values.OfType<IChildWait>())
                {
                    _engine.NotifyFinished(child.WaitingFor);
                }

                return null;
            default:
                // Something arrived meanwhile (a signal the suspend saw): look for it.
                Post(ExecutionEvent.SignalsMayHaveArrived);
                return null;
        }
    }

    private string[] PendingSignalNames()
        => [.. _pending.Values.OfType<WaitOperation>().Select(w => w.SignalName).OfType<string>().Distinct(StringComparer.Ordinal)];
}
