namespace Durably.Runtime.Hosting;

/// <summary>What Durably's health checks (<c>AddDurablyHealthChecks()</c>) consider healthy.</summary>
public sealed class DurablyHealthCheckOptions
{
    /// <summary>The default of <see cref="StoreTimeout"/>.</summary>
    public static readonly TimeSpan DefaultStoreTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How long the store may take to answer a read before the store check reports it unhealthy; 5 s unless set.</summary>
    public TimeSpan StoreTimeout { get; set; } = DefaultStoreTimeout;

    /// <summary>
    /// How long the worker's claim loop may go without a round before the worker check reports it unhealthy; when null,
    /// three times the longer of <see cref="DurableOptions.PollInterval"/> and <see cref="DurableOptions.StoreRetryMaxDelay"/>
    /// (the loop goes round at least that often, even while the store is down).
    /// </summary>
    public TimeSpan? WorkerStalledAfter { get; set; }

    /// <summary>
    /// How many dead letters the dead-letter check tolerates before it reports <c>Degraded</c>; 0 unless set, so one
    /// parked run — which waits for a person — degrades the app's health.
    /// </summary>
    public long DeadLetterThreshold { get; set; }

    /// <summary>The tags every Durably check carries, to select them in a health endpoint; <c>durably</c> unless changed.</summary>
    public IList<string> Tags { get; } = ["durably"];

    /// <summary>Throws, naming the bad value, unless every option is in range.</summary>
    internal void Validate()
    {
        if (StoreTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(StoreTimeout), StoreTimeout, $"DurablyHealthCheckOptions.StoreTimeout must be positive; it is {StoreTimeout}.");
        }

        if (WorkerStalledAfter is { } stalled && stalled <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(WorkerStalledAfter), stalled, $"DurablyHealthCheckOptions.WorkerStalledAfter must be positive when set; it is {stalled}.");
        }

        if (DeadLetterThreshold < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(DeadLetterThreshold), DeadLetterThreshold, $"DurablyHealthCheckOptions.DeadLetterThreshold must be zero or more; it is {DeadLetterThreshold}.");
        }
    }
}
