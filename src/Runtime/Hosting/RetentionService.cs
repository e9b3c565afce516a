using Durably.Runtime.Journal;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Durably.Runtime.Hosting;

/// <summary>
/// Carries out <see cref="DurableOptions.Retention"/>: at start-up and then every <see cref="RetentionOptions.Interval"/>,
/// deletes the runs that ended more than <see cref="RetentionOptions.Period"/> ago, a batch at a time with a pause
/// between, until a batch comes back short. A store failure is logged and the next look tries again; several workers
/// purging one PostgreSQL store share the work (a batch skips rows another holds).
/// </summary>
internal sealed partial class RetentionService(DurableEngine engine, ILogger<RetentionService>? logger = null) : BackgroundService
{
    private readonly ILogger _logger = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger<RetentionService>.Instance;
    private long _purged;

    /// <summary>How many runs this service has purged; for tests.</summary>
    internal long Purged => Interlocked.Read(ref _purged);

    /// <summary>How many looks have completed; for tests.</summary>
    internal int Looks { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var retention = engine.Options.Retention;
        if (retention.Period is not { } period)
        {
            return;
        }

        if (engine.Context.Store is not IWorkflowStoreRetention store)
        {
            LogUnsupported(_logger, engine.Context.Store.GetType().Name);
            return;
        }

        var time = engine.Context.Time;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var purged = await LookAsync(store, period, retention, stoppingToken).ConfigureAwait(false);
                if (purged > 0)
                {
                    LogPurged(_logger, purged, period);
                }
            }
            catch (DurableStoreException ex)
            {
                LogFailed(_logger, retention.Interval, ex);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }

            Looks++;
            try
            {
                await Task.Delay(retention.Interval, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private async Task<long> LookAsync(IWorkflowStoreRetention store, TimeSpan period, RetentionOptions retention, CancellationToken cancellationToken)
    {
        long purged = 0;
        await store.PurgeInBatchesAsync(new RunPurgeQuery(engine.Context.UtcNow() - period, null, retention.BatchSize), retention.BatchPause, engine.Context.Time, batch =>
        {
            purged += batch;
            Interlocked.Add(ref _purged, batch);
        }, cancellationToken).ConfigureAwait(false);
        return purged;
    }

    [LoggerMessage(40, LogLevel.Information, "Durably retention purged {Count} runs that ended more than {Period} ago")]
    private static partial void LogPurged(ILogger logger, long count, TimeSpan period);

    [LoggerMessage(41, LogLevel.Warning, "Durably retention could not purge old runs; it tries again in {Interval}")]
    private static partial void LogFailed(ILogger logger, TimeSpan interval, Exception exception);

    [LoggerMessage(42, LogLevel.Warning, "Durably retention is configured, but the store {Store} cannot purge runs (IWorkflowStoreRetention); runs are kept")]
    private static partial void LogUnsupported(ILogger logger, string store);
}
