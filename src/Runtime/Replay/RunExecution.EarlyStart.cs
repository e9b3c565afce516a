using Durably.Runtime.Engine;

namespace Durably.Runtime.Replay;

/// <summary>
/// A run started here before its row was sent (<see cref="EarlyStart"/>): nothing of it is in the store yet, so nothing
/// of it may reach the outside world or the store before the row is — and when its end is its only write, the end
/// carries the row (see <see cref="FinishAsync"/>).
/// </summary>
internal sealed partial class RunExecution<TWorkflow, TInput, TOutput>
{
    // Registered once the run's row is written: until then there is no lease to renew.
    private IDisposable? _heartbeat;

    private void RegisterHeartbeat() => _heartbeat ??= _engine.Heartbeat.Register(_lease, () => Post(ExecutionEvent.LeaseLost), RequestStop);

    /// <summary>
    /// Before the run goes live (its operations start): sends the run's row if it is still unsent and waits for it, unless
    /// the run method has already ended with nothing started — then its end carries the row. False when the row was not
    /// created (its id was already used): the execution stops, having written nothing.
    /// </summary>
    private async ValueTask<bool> StartWrittenAsync()
    {
        if (_earlyStart is not { } start || (start.IsUnsent && _runTask!.IsCompleted && _awaitingStart.Count == 0))
        {
            return true;
        }

        if (!await start.WrittenAsync().ConfigureAwait(false))
        {
            return false;
        }

        RegisterHeartbeat();
        return true;
    }

    /// <summary>
    /// Lets the run go for another execution, its row written first if it was still unsent (else there would be nothing
    /// to take up); a row that was not created is not this execution's to release.
    /// </summary>
    private async Task ReleaseAsync()
    {
        if (_earlyStart is null || await _earlyStart.WrittenAsync().ConfigureAwait(false))
        {
            await _engine.Store.ReleaseAsync(_lease, CancellationToken.None).ConfigureAwait(false);
        }
    }
}
