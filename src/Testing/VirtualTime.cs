namespace Durably.Testing;

/// <summary>
/// The clock of a <see cref="DurableTestHost"/>: time stands still until it is advanced — by hand with
/// <see cref="Advance"/>, or by the host when every run waits for a time (see
/// <see cref="DurableTestHostOptions.AutoSkipTime"/>). Advancing fires the timers that fall due, each at its own time,
/// in order. One clock per host: hosts in parallel tests do not share time.
/// </summary>
public sealed class VirtualTime : TimeProvider
{
    private readonly Lock _gate = new();
    private readonly object _moving = new();
    private readonly List<Timer> _timers = [];
    private DateTimeOffset _now;
    private long _changes;
    private int _moves;

    /// <summary>A clock that starts at <paramref name="start"/> (UTC).</summary>
    /// <param name="start">The first time the clock shows.</param>
    public VirtualTime(DateTimeOffset start) => _now = start.ToUniversalTime();

    /// <summary>How many times a timer was created, changed, fired or disposed: the host reads it to tell when the engine is settled.</summary>
    internal long Changes
    {
        get
        {
            lock (_gate)
            {
                return _changes;
            }
        }
    }

    /// <summary>When the next timer falls due, or <see langword="null"/> when none is pending.</summary>
    public DateTimeOffset? NextDue
    {
        get
        {
            lock (_gate)
            {
                return _timers.Count == 0 ? null : _timers.Min(t => t.Due);
            }
        }
    }

    /// <inheritdoc/>
    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate)
        {
            return _now;
        }
    }

    /// <inheritdoc/>
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    /// <inheritdoc/>
    public override long GetTimestamp() => GetUtcNow().UtcTicks;

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dueTime"/> is negative and not <see cref="Timeout.InfiniteTimeSpan"/>.</exception>
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var timer = new Timer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>Moves the clock forward by <paramref name="delay"/>, firing every timer that falls due on the way.</summary>
    /// <param name="delay">How far; zero fires the timers due now.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delay"/> is negative: time does not go back.</exception>
    /// <remarks>
    /// Each timer fires at its own time, in order, and its callback runs on the calling thread before the clock moves on
    /// (so what a fired timer wakes has started before this returns). One move at a time: a call made while the host
    /// skips waits for the skip to end.
    /// </remarks>
    public void Advance(TimeSpan delay)
    {
        if (delay < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(delay), delay, "Time does not go back: the delay must be zero or more.");
        }

        lock (_moving)
        {
            AdvanceTo(GetUtcNow() + delay);
        }
    }

    /// <summary>How many times the clock was moved forward (by hand or by the host).</summary>
    public int Moves => Volatile.Read(ref _moves);

    /// <summary>Moves the clock to the next due time, if a timer is pending and none was added since <paramref name="changes"/>.</summary>
    internal bool TrySkip(long changes)
    {
        lock (_moving)
        {
            if (Changes != changes || NextDue is not { } due)
            {
                return false;
            }

            AdvanceTo(due);
            return true;
        }
    }

    /// <summary>Moves the clock to <paramref name="time"/> (no earlier than now), firing the timers due by then, each at its own time.</summary>
    private void AdvanceTo(DateTimeOffset time)
    {
        Interlocked.Increment(ref _moves);
        while (true)
        {
            Timer? next;
            lock (_gate)
            {
                next = _timers.Where(t => t.Due <= time).MinBy(t => t.Due);
                if (next is null)
                {
                    _now = time > _now ? time : _now;
                    _changes++;
                    return;
                }

                _now = next.Due > _now ? next.Due : _now;
                next.Fired();
            }

            next.Invoke();
        }
    }

    private void Schedule(Timer timer, TimeSpan dueTime, TimeSpan period)
    {
        lock (_gate)
        {
            _timers.Remove(timer);
            if (dueTime != Timeout.InfiniteTimeSpan)
            {
                timer.Set(_now + dueTime, period);
                _timers.Add(timer);
            }

            _changes++;
        }
    }

    /// <summary>A timer of the virtual clock: due at a virtual time, then again every period if it has one.</summary>
    private sealed class Timer(VirtualTime clock, TimerCallback callback, object? state) : ITimer
    {
        private TimeSpan _period = Timeout.InfiniteTimeSpan;

        public DateTimeOffset Due { get; private set; }

        public void Set(DateTimeOffset due, TimeSpan period) => (Due, _period) = (due, period);

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            if (dueTime != Timeout.InfiniteTimeSpan)
            {
                ArgumentOutOfRangeException.ThrowIfLessThan(dueTime, TimeSpan.Zero);
            }

            clock.Schedule(this, dueTime, period);
            return true;
        }

        /// <summary>Called under the clock's lock as it fires: rescheduled for its next period, or removed.</summary>
        public void Fired()
        {
            if (_period > TimeSpan.Zero && _period != Timeout.InfiniteTimeSpan)
            {
                Due += _period;
            }
            else
            {
                clock._timers.Remove(this);
            }

            clock._changes++;
        }

        /// <summary>Runs the callback on the thread that moves the clock.</summary>
        public void Invoke() => callback(state);

        public void Dispose() => Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
