using System.Diagnostics;
using Durably.Runtime.Journal;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Durably.Runtime.Hosting;

/// <summary>The store answers a read within <see cref="DurablyHealthCheckOptions.StoreTimeout"/>.</summary>
internal sealed class StoreHealthCheck(DurableEngine engine, DurablyHealthCheckOptions options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await engine.Context.Store.GetRunAsync("durably-health-probe", cancellationToken).WaitAsync(options.StoreTimeout, cancellationToken).ConfigureAwait(false);
            var elapsed = Stopwatch.GetElapsedTime(started);
            return HealthCheckResult.Healthy($"The store answered in {elapsed.TotalMilliseconds:0} ms.",
                new Dictionary<string, object> { ["store"] = engine.Context.Store.GetType().Name, ["milliseconds"] = elapsed.TotalMilliseconds });
        }
        catch (TimeoutException)
        {
            return HealthCheckResult.Unhealthy($"The store did not answer a read within {options.StoreTimeout.TotalSeconds:0.#} s.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"The store failed a read: {ex.Message}", ex);
        }
    }
}

/// <summary>This process's worker loop goes round: it started, has not ended, and went round recently.</summary>
internal sealed class WorkerHealthCheck(DurableEngine engine, IEnumerable<IHostedService> hosted, DurablyHealthCheckOptions options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var worker = hosted.OfType<DurableWorker>().FirstOrDefault();
        var name = engine.Options.WorkerName;
        var stalledAfter = options.WorkerStalledAfter ?? 3 * TimeSpan.FromTicks(Math.Max(engine.Options.PollInterval.Ticks, engine.Options.StoreRetryMaxDelay.Ticks));
        var data = new Dictionary<string, object> { ["worker"] = name };
        if (worker is null)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"No Durably worker is registered in this process (services.AddDurably registers one).", data: data));
        }

        if (worker.HasLoopEnded)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"Worker '{name}' has stopped claiming runs: its loop ended.", data: data));
        }

        if (worker.LastLoopAt is not { } last)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"Worker '{name}' has not started claiming runs yet.", data: data));
        }

        var since = engine.Context.Time.GetUtcNow() - last;
        data["lastLoopAt"] = last;
        return Task.FromResult(since > stalledAfter
            ? HealthCheckResult.Unhealthy($"Worker '{name}' last went round {since.TotalSeconds:0} s ago; it should every {stalledAfter.TotalSeconds / 3:0.#} s at most.", data: data)
            : HealthCheckResult.Healthy($"Worker '{name}' went round {since.TotalSeconds:0.#} s ago.", data));
    }
}

/// <summary>No more dead letters than <see cref="DurablyHealthCheckOptions.DeadLetterThreshold"/>; more is <c>Degraded</c>: a person is needed.</summary>
internal sealed class DeadLetterHealthCheck(DurableEngine engine, DurablyHealthCheckOptions options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (engine.Context.Store is not IWorkflowStoreStatistics statistics)
        {
            return HealthCheckResult.Healthy($"The store ({engine.Context.Store.GetType().Name}) does not count runs; dead letters are not checked.");
        }

        try
        {
            var counts = await statistics.CountRunsAsync(null, cancellationToken).ConfigureAwait(false);
            var parked = counts.Where(c => c.Status == WorkflowStatus.DeadLettered).ToList();
            var total = parked.Sum(c => c.Count);
            var data = new Dictionary<string, object> { ["deadLetters"] = total, ["threshold"] = options.DeadLetterThreshold };
            foreach (var count in parked)
            {
                data["deadLetters:" + count.WorkflowName] = count.Count;
            }

            return total > options.DeadLetterThreshold
                ? HealthCheckResult.Degraded($"{total} dead-lettered run{(total == 1 ? "" : "s")} wait for a person (threshold {options.DeadLetterThreshold}): {string.Join(", ", parked.Select(c => $"{c.WorkflowName} {c.Count}"))}.", data: data)
                : HealthCheckResult.Healthy($"{total} dead-lettered run{(total == 1 ? "" : "s")} (threshold {options.DeadLetterThreshold}).", data);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"Dead letters could not be counted: {ex.Message}", ex);
        }
    }
}
