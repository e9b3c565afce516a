using Durably.Runtime.Engine;
using Durably.Runtime.Journal;

namespace Durably.Runtime.Replay;

/// <summary>
/// Keeps an execution's lease alive: renews it every third of <see cref="EngineContext.LeaseDuration"/> until stopped.
/// A refused renewal means another worker took the run (<paramref name="lost"/>); a renewal may also report a cancel
/// no notification announced, such as one sent by another process to a SQLite file (<paramref name="cancelRequested"/>).
/// </summary>
internal sealed class LeaseKeeper(EngineContext engine, RunLease lease, Action lost, Action cancelRequested)
{
    /// <summary>Renews until <paramref name="stop"/> is cancelled or the lease is lost.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        var interval = engine.LeaseDuration / 3;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, engine.Time, stop).ConfigureAwait(false);
                switch (await engine.Store.RenewAsync(lease, engine.LeaseDuration, stop).ConfigureAwait(false))
                {
                    case LeaseRenewal.Lost:
                        lost();
                        return;
                    case LeaseRenewal.CancelRequested:
                        cancelRequested();
                        break;
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (DurableStoreException)
            {
                // A failed renewal is retried at the next interval; the lease only lapses if the store stays unreachable.
            }
        }
    }
}
