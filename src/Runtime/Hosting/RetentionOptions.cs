namespace Durably.Runtime;

/// <summary>
/// How long finished runs are kept (<see cref="DurableOptions.Retention"/>): with a <see cref="Period"/>, every worker
/// purges, in the background and in small batches, the runs that ended longer ago — completed, failed, cancelled or
/// continued as new. A dead letter is never purged: it waits for a person to retry or discard it.
/// </summary>
public sealed class RetentionOptions
{
    /// <summary>The default of <see cref="BatchSize"/>.</summary>
    public const int DefaultBatchSize = 100;

    /// <summary>The default of <see cref="Interval"/>.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMinutes(10);

    /// <summary>The default of <see cref="BatchPause"/>.</summary>
    public static readonly TimeSpan DefaultBatchPause = TimeSpan.FromMilliseconds(50);

    /// <summary>How long a finished run is kept after it ended; <see langword="null"/> (the default) keeps runs forever.</summary>
    public TimeSpan? Period { get; set; }

    /// <summary>How many runs one batch deletes, each batch its own short transaction; 1 to 10,000, 100 unless set.</summary>
    public int BatchSize { get; set; } = DefaultBatchSize;

    /// <summary>How often a worker looks for runs to purge; 10 minutes unless set. The first look is at start-up.</summary>
    public TimeSpan Interval { get; set; } = DefaultInterval;

    /// <summary>The pause between two batches of one look, so a long purge leaves the store to the runs; 50 ms unless set.</summary>
    public TimeSpan BatchPause { get; set; } = DefaultBatchPause;

    /// <summary>Throws, naming the setting and its value, when a setting is out of range.</summary>
    internal void Validate()
    {
        if (Period is { } period && period <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(Period), period, $"DurableOptions.Retention.Period must be positive (or null to keep runs forever); it is {period}.");
        }

        if (BatchSize is < 1 or > 10_000)
        {
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, $"DurableOptions.Retention.BatchSize must be 1 to 10,000; it is {BatchSize}.");
        }

        if (Interval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(Interval), Interval, $"DurableOptions.Retention.Interval must be positive; it is {Interval}.");
        }

        if (BatchPause < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(BatchPause), BatchPause, $"DurableOptions.Retention.BatchPause must not be negative; it is {BatchPause}.");
        }
    }
}
