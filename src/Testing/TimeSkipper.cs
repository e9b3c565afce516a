using Durably.Runtime.Engine;

namespace Durably.Testing;

/// <summary>
/// Moves a host's <see cref="VirtualTime"/> to its next due time while someone asks it to (<see cref="Skip"/>) and the
/// engine has settled: no part of it works (<see cref="EngineContext.Busy"/> is zero — every execution, operation and
/// the worker waits for a time or an event, and no step body runs), no timer was set, changed or fired, and the thread
/// pool has nothing queued, over several looks a millisecond apart. It runs on a thread of its own, so its looks are not
/// thread-pool work themselves; work of other tests in the process can only make it wait, never skip early.
/// </summary>
internal sealed class TimeSkipper : IAsyncDisposable
{
    private const int SettledLooks = 3;

    private readonly VirtualTime _time;
    private readonly EngineContext _engine;
    private readonly SemaphoreSlim _wanted = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<Asker> _askers = [];

    public TimeSkipper(VirtualTime time, EngineContext engine)
    {
        _time = time;
        _engine = engine;
        new Thread(Run) { IsBackground = true, Name = "Durably test clock" }.Start();
    }

    /// <summary>
    /// Time moves until the returned object is disposed, or until <paramref name="done"/> says what it waits for has
    /// happened — checked before each move, so that time never passes the end of what the test waits for.
    /// </summary>
    public IDisposable Skip(Func<bool>? done = null)
    {
        var asker = new Asker(this, done ?? (static () => false));
        lock (_askers)
        {
            _askers.Add(asker);
        }

        _wanted.Release();
        return asker;
    }

    /// <summary>Whether someone waits, for something that has not happened yet.</summary>
    private bool Wanted()
    {
        lock (_askers)
        {
            return _askers.Exists(a => !a.Done());
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _stopped.Task.ConfigureAwait(false);
        _stop.Dispose();
        _wanted.Dispose();
    }

    private void Run()
    {
        try
        {
            var quiet = 0;
            var changes = _time.Changes;
            while (!_stop.IsCancellationRequested)
            {
                if (!Wanted())
                {
                    // Nobody waits (or what they wait for has happened): sleep until someone asks.
                    quiet = 0;
                    _wanted.Wait(TimeSpan.FromMilliseconds(20), _stop.Token);
                    continue;
                }

                // The look interval of this background thread (not a test's sleep): three looks about a millisecond
                // apart must agree before the clock moves, and it never advances time itself while it waits.
                Thread.Sleep(1);
                var now = _time.Changes;
                var settled = _engine.Busy == 0 && ThreadPool.PendingWorkItemCount == 0 && now == changes;
                quiet = settled ? quiet + 1 : 0;
                changes = now;
                if (quiet >= SettledLooks && Wanted() && _time.TrySkip(changes))
                {
                    quiet = 0;
                    changes = _time.Changes;
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        finally
        {
            _stopped.TrySetResult();
        }
    }

    private sealed class Asker(TimeSkipper skipper, Func<bool> done) : IDisposable
    {
        public Func<bool> Done { get; } = done;

        public void Dispose()
        {
            lock (skipper._askers)
            {
                skipper._askers.Remove(this);
            }
        }
    }
}
