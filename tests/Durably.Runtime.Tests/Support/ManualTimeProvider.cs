namespace Durably.Runtime.Tests.Support;

/// <summary>A clock the test moves by hand. Its timers (and so <c>Task.Delay(…, clock)</c>) fire only in <see cref="Advance"/>.</summary>
internal sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    private readonly Lock _gate = new();
    private readonly List<ManualTimer> _timers = [];
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate)
        {
            return _now;
        }
    }

    /// <summary>Timestamps follow the manual clock too, so elapsed times measured through the provider are exact.</summary>
    public override long GetTimestamp() => GetUtcNow().UtcTicks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    /// <summary>How many timers are waiting to fire.</summary>
    public int PendingTimers
    {
        get
        {
            lock (_gate)
            {
                return _timers.Count(t => t.Due is not null);
            }
        }
    }

    /// <summary>
    /// How many timers are armed to fire at exactly <paramref name="due"/>. Every wait of the engine (durable timers,
    /// backoffs, step timeouts, breaker cooldowns) is such a timer, so a wait still armed after <see cref="Advance"/> is
    /// one that did not end — proven at once, with no sleep.
    /// </summary>
    public int ArmedFor(DateTimeOffset due)
    {
        lock (_gate)
        {
            return _timers.Count(t => t.Due == due);
        }
    }

    /// <summary>Whether a timer is armed to fire at exactly <paramref name="due"/>.</summary>
    public bool IsArmedFor(DateTimeOffset due) => ArmedFor(due) > 0;

    /// <summary>Waits until <paramref name="count"/> timers are armed to fire at <paramref name="due"/>: the waits have begun.</summary>
    public Task ArmedForAsync(DateTimeOffset due, int count = 1)
        => Wait.UntilAsync(() => ArmedFor(due) >= count, $"{count} timer(s) armed for {due:O} (armed now: {ArmedFor(due)})");

    public void Advance(TimeSpan by)
    {
        List<ManualTimer> due;
        lock (_gate)
        {
            _now += by;
            due = [.. _timers.Where(t => t.Due <= _now)];
            foreach (var timer in due)
            {
                timer.Due = timer.Period > TimeSpan.Zero ? _now + timer.Period : null;
            }
        }

        foreach (var timer in due)
        {
            timer.Fire();
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    private sealed class ManualTimer(ManualTimeProvider clock, TimerCallback callback, object? state) : ITimer
    {
        public DateTimeOffset? Due { get; set; }

        public TimeSpan Period { get; private set; }

        public void Fire() => callback(state);

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (clock._gate)
            {
                if (!clock._timers.Contains(this))
                {
                    clock._timers.Add(this);
                }

                Due = dueTime == Timeout.InfiniteTimeSpan ? null : clock._now + dueTime;
                Period = period == Timeout.InfiniteTimeSpan ? TimeSpan.Zero : period;
                return true;
            }
        }

        public void Dispose()
        {
            lock (clock._gate)
            {
                clock._timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
