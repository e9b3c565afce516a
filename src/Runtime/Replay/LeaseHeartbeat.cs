using Durably.Runtime.Engine;
using Durably.Runtime.Journal;
using Microsoft.Extensions.Logging;

namespace Durably.Runtime.Replay;

/// <summary>
/// The engine's one heartbeat: while executions are in progress, every third of <see cref="EngineContext.LeaseDuration"/>
/// it renews every lease the worker holds in a single store write (<see cref="IWorkflowStore.RenewLeasesAsync"/>), and
/// tells each execution what the store said of its run: taken over by another worker (its epoch moved on, or it is no
/// longer held), or asked to cancel by something no notification announced, such as another process on a SQLite file.
/// </summary>
/// <remarks>
/// One write per interval however many runs are in flight, instead of one per run. A failed renewal is tried again at the
/// next interval; the leases lapse only if the store stays unreachable for a whole lease, and the worker reports the
/// outage itself.
/// </remarks>
internal sealed partial class LeaseHeartbeat(EngineContext engine, string owner)
{
    private readonly Lock _gate = new();
    private readonly HashSet<Registration> _registrations = [];
    private bool _beating;

    /// <summary>Hears about <paramref name="lease"/> until the registration is disposed.</summary>
    /// <param name="lease">The execution's lease.</param>
    /// <param name="lost">Called when the run is no longer held by this lease.</param>
    /// <param name="cancelRequested">Called when a cancel was requested for the run.</param>
    public IDisposable Register(RunLease lease, Action lost, Action cancelRequested)
    {
        var registration = new Registration(this, lease, lost, cancelRequested);
        lock (_gate)
        {
            _registrations.Add(registration);
            if (!_beating)
            {
                _beating = true;
                // Engine work until it stops, its sleeps aside (see EngineContext.Busy).
                engine.Enter();
                _ = Task.Run(BeatAsync);
            }
        }

        return registration;
    }

    private async Task BeatAsync()
    {
        try
        {
            await BeatUntilIdleAsync().ConfigureAwait(false);
        }
        finally
        {
            engine.Leave();
        }
    }

    private async Task BeatUntilIdleAsync()
    {
        var interval = engine.LeaseDuration / 3;
        while (true)
        {
            await engine.ParkedAsync(Task.Delay(interval, engine.Time)).ConfigureAwait(false);
            Registration[] judged;
            lock (_gate)
            {
                if (_registrations.Count == 0)
                {
                    // Nothing in flight: stop until the next execution registers.
                    _beating = false;
                    return;
                }

                // Judged: the executions registered before the store is asked, so none claimed since looks lost.
                judged = [.. _registrations];
            }

            IReadOnlyList<HeldRun> held;
            try
            {
                held = await engine.Store.RenewLeasesAsync(owner, engine.LeaseDuration, CancellationToken.None).ConfigureAwait(false);
            }
            catch (DurableStoreException)
            {
                // Tried again at the next interval; the worker reports a store that keeps failing.
                continue;
            }
            catch (Exception ex)
            {
                LogHeartbeatFailed(engine.Telemetry.Logger, owner, ex);
                continue;
            }

            var byId = held.ToDictionary(h => h.WorkflowId, StringComparer.Ordinal);
            foreach (var registration in judged)
            {
                registration.Judge(byId.GetValueOrDefault(registration.Lease.WorkflowId));
            }
        }
    }

    [LoggerMessage(20, LogLevel.Error, "The lease heartbeat of worker {Worker} failed; it is tried again at the next interval")]
    private static partial void LogHeartbeatFailed(ILogger logger, string worker, Exception exception);

    private sealed class Registration(LeaseHeartbeat heartbeat, RunLease lease, Action lost, Action cancelRequested) : IDisposable
    {
        private volatile bool _disposed;

        public RunLease Lease { get; } = lease;

        public void Judge(HeldRun? run)
        {
            if (_disposed)
            {
                return;
            }

            if (run is null || run.Epoch != Lease.Epoch)
            {
                lost();
            }
            else if (run.CancelRequested)
            {
                cancelRequested();
            }
        }

        public void Dispose()
        {
            _disposed = true;
            lock (heartbeat._gate)
            {
                heartbeat._registrations.Remove(this);
            }
        }
    }
}
