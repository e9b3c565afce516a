using Microsoft.Extensions.Logging;

namespace Durably.Runtime.Hosting;

/// <summary>
/// How the worker lives through a store that keeps failing (a full disk, a read-only file, a database that is down):
/// it pauses before touching the store again, exponentially longer with jitter up to a cap, and says so calmly — the
/// first failure with its stack, then one summary line per interval with a count, then one line when the store works
/// again. Every <see cref="StoreFault"/> is handled the same way; the kind is named in each line.
/// </summary>
/// <remarks>
/// A store can fail for writes and still serve reads (a full disk does exactly that), so a successful read ends an
/// outage only if no write failed during it; a successful write always ends it.
/// </remarks>
internal sealed partial class StoreOutage(ILogger logger, TimeProvider time, TimeSpan firstDelay, TimeSpan maxDelay, TimeSpan reportInterval)
{
    private readonly Lock _gate = new();
    private DateTimeOffset? _since;
    private DateTimeOffset _retryAt;
    private DateTimeOffset _lastReport;
    private TimeSpan _delay;
    private int _failures;
    private int _lastOutageFailures;
    private int _totalFailures;
    private DateTimeOffset? _recoveredAt;
    private TimeSpan _lastDelay;
    private int _unreported;
    private bool _writeFailed;

    /// <summary>How many failures the current outage has seen; zero when the store works.</summary>
    public int Failures
    {
        get
        {
            lock (_gate)
            {
                return _failures;
            }
        }
    }

    /// <summary>A failure this soon after a recovery continues the same outage: a minute, or the report interval if longer.</summary>
    private TimeSpan FlapWindow => reportInterval > TimeSpan.FromMinutes(1) ? reportInterval : TimeSpan.FromMinutes(1);

    /// <summary>How many store failures the worker has met in all.</summary>
    public int TotalFailures => Volatile.Read(ref _totalFailures);

    /// <summary>How many failures the last outage (current or over) counted.</summary>
    public int FailuresInLastOutage
    {
        get
        {
            lock (_gate)
            {
                return _lastOutageFailures;
            }
        }
    }

    /// <summary>How long to leave the store alone before the next try; zero when it works or the pause is over.</summary>
    public TimeSpan RetryDelay
    {
        get
        {
            lock (_gate)
            {
                var left = _since is null ? TimeSpan.Zero : _retryAt - time.GetUtcNow();
                return left > TimeSpan.Zero ? left : TimeSpan.Zero;
            }
        }
    }

    /// <summary>A store call failed.</summary>
    /// <param name="exception">The store's exception.</param>
    /// <param name="write">Whether the call wrote.</param>
    public void Failed(DurableStoreException exception, bool write)
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            _totalFailures++;
            _writeFailed |= write;
            if (_since is null && _recoveredAt is { } recovered && now - recovered < FlapWindow)
            {
                // A store that works now and then (a full disk still takes a small write) is one outage, not many:
                // back to the pause it had reached, counted in the next summary, no second first-failure line.
                (_since, _lastReport, _failures, _unreported, _delay) = (recovered, now, 1, 1, _lastDelay);
                _lastOutageFailures = 1;
                _retryAt = now + Jitter(_delay);
                return;
            }

            if (_since is null)
            {
                (_since, _lastReport, _failures, _unreported, _delay, _lastOutageFailures) = (now, now, 1, 0, firstDelay, 1);
                _retryAt = now + Jitter(_delay);
                LogOutageBegan(logger, exception.Fault, Say(_retryAt - now), Say(reportInterval), exception);
                return;
            }

            _failures++;
            _lastOutageFailures = _failures;
            _unreported++;
            // Runs in flight may fail together: only a failure after the pause lengthens the next one.
            if (now >= _retryAt)
            {
                _delay = TimeSpan.FromTicks(Math.Min(_delay.Ticks * 2, maxDelay.Ticks));
                _retryAt = now + Jitter(_delay);
            }

            if (now - _lastReport >= reportInterval)
            {
                LogStillFailing(logger, exception.Fault, _unreported, Say(now - _lastReport), Say(now - _since.Value), Say(_retryAt - now), exception.Message);
                (_lastReport, _unreported) = (now, 0);
            }
        }
    }

    /// <summary>A store call worked.</summary>
    /// <param name="write">Whether the call wrote.</param>
    public void Succeeded(bool write)
    {
        lock (_gate)
        {
            if (_since is not { } since || (!write && _writeFailed))
            {
                return;
            }

            var now = time.GetUtcNow();
            if (_recoveredAt is not { } earlier || now - earlier >= FlapWindow)
            {
                LogRecovered(logger, Say(now - since), _failures);
            }

            (_since, _failures, _unreported, _writeFailed, _recoveredAt, _lastDelay) = (null, 0, 0, false, now, _delay);
        }
    }

    /// <summary>Between three quarters and all of <paramref name="delay"/>, so that workers that failed together come back apart.</summary>
    private static TimeSpan Jitter(TimeSpan delay) => delay * (0.75 + (Random.Shared.NextDouble() / 4));

    /// <summary>A duration as a person says it: "250 ms", "4.2 s", "3.5 min".</summary>
    internal static string Say(TimeSpan duration) => duration.TotalSeconds switch
    {
        < 1 => $"{duration.TotalMilliseconds:0} ms",
        < 120 => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{duration.TotalSeconds:0.#} s"),
        _ => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{duration.TotalMinutes:0.#} min"),
    };

    [LoggerMessage(10, LogLevel.Error, "The Durably store failed ({Fault}); the worker pauses {Delay} before trying again, doubling the pause while it keeps failing, and reports every {Interval} until it works")]
    private static partial void LogOutageBegan(ILogger logger, StoreFault fault, string delay, string interval, Exception exception);

    [LoggerMessage(11, LogLevel.Warning, "The Durably store is still failing ({Fault}): {Count} more failures in the last {Period}, {Outage} in all; next try in {Delay}. Last: {Message}")]
    private static partial void LogStillFailing(ILogger logger, StoreFault fault, int count, string period, string outage, string delay, string message);

    [LoggerMessage(12, LogLevel.Information, "The Durably store works again after {Outage} and {Failures} failures")]
    private static partial void LogRecovered(ILogger logger, string outage, int failures);
}
