using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Durably.Runtime;
using Durably.Runtime.Hosting;
using Durably.Runtime.Journal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Durably.Load;

/// <summary>
/// W4 (recovery): a worker process holds N runs in flight and is SIGKILLed; a worker with another name (as after a
/// crash, since the default name holds the process id) takes them over. Figures: from the moment the last of the dead
/// worker's leases expires to the moment all its runs are claimed, and to the moment all have finished.
/// </summary>
internal static class Recovery
{
    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(3);

    public static async Task<List<(string Figure, double Value)>> RunAsync(BenchTarget target, int count, int concurrency)
    {
        // The victim: its own process, holding every run in its second step.
        var self = typeof(Recovery).Assembly.Location;
        var prefix = $"recover-{Guid.NewGuid():N}-";
        using var victim = Process.Start(new ProcessStartInfo("dotnet", [self, "--victim", target.Locator, count.ToString(CultureInfo.InvariantCulture), prefix])
        {
            RedirectStandardOutput = true,
        }) ?? throw new InvalidOperationException("The victim process did not start.");
        var ready = await victim.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromMinutes(5));
        if (ready != "ready")
        {
            throw new InvalidOperationException($"The victim said '{ready}' instead of 'ready'.");
        }

        victim.Kill();
        await victim.WaitForExitAsync();

        var recovered = new ConcurrentQueue<DateTimeOffset>();
        var services = new ServiceCollection();
        services.AddDurably(o =>
        {
            target.Configure(o);
            (o.WorkerName, o.MaxConcurrentRuns, o.LeaseDuration) = ("rescuer", concurrency, Lease);
        }).AddWorkflow<Recoverable>().AddAlertSink(new RecoveredSink(recovered));
        await using var provider = services.BuildServiceProvider();
        var store = provider.GetRequiredService<IWorkflowStore>();
        var held = (await ListAllAsync(store, WorkflowStatus.Running)).Where(r => r.WorkflowId.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        if (held.Count != count || held.Any(r => r.Owner != "victim" || r.LeaseExpiresAt is null))
        {
            throw new InvalidOperationException($"Expected {count} runs held by the victim, found {held.Count} ({held.Count(r => r.Owner == "victim")} held by it).");
        }

        var lastExpiry = held.Max(r => r.LeaseExpiresAt!.Value);
        var worker = provider.GetServices<IHostedService>().OfType<DurableWorker>().Single();
        await worker.StartAsync(default);
        try
        {
            while ((await ListAllAsync(store, WorkflowStatus.Running)).Count > 0)
            {
                await Task.Delay(50);
            }

            var finished = DateTimeOffset.UtcNow;
            var claims = recovered.ToArray();
            await Task.Delay(200);
            if (recovered.Count != count)
            {
                throw new InvalidOperationException($"{recovered.Count} of {count} runs were reported recovered.");
            }

            Console.Error.WriteLine($"  recovery: {count} runs, last lease expired {lastExpiry:HH:mm:ss.fff}, first claim {claims.Min():HH:mm:ss.fff}, last claim {recovered.Max():HH:mm:ss.fff}");
            return
            [
                ($"W4 recovery {count} runs, {concurrency} slots: expiry to all claimed (s)", (recovered.Max() - lastExpiry).TotalSeconds),
                ($"W4 recovery {count} runs, {concurrency} slots: expiry to all finished (s)", (finished - lastExpiry).TotalSeconds),
            ];
        }
        finally
        {
            await worker.StopAsync(default);
        }
    }

    /// <summary>The victim process: starts <paramref name="count"/> runs, says "ready" when all are in their second step, and waits to be killed.</summary>
    public static async Task<int> VictimAsync(string locator, int count, string prefix)
    {
        Recoverable.Hang = true;
        var services = new ServiceCollection();
        services.AddDurably(o =>
        {
            BenchTarget.ConfigureFrom(locator)(o);
            (o.WorkerName, o.MaxConcurrentRuns, o.LeaseDuration) = ("victim", count, Lease);
        }).AddWorkflow<Recoverable>();
        var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<RecoverableClient>();
        var worker = provider.GetServices<IHostedService>().OfType<DurableWorker>().Single();
        await worker.StartAsync(default);
        for (var i = 0; i < count; i++)
        {
            await client.StartAsync(i, prefix + i.ToString(CultureInfo.InvariantCulture));
        }

        while (Volatile.Read(ref Recoverable.InSecondStep) < count)
        {
            await Task.Delay(20);
        }

        // Let a lease renewal or two go by, as a worker that has been running a while would have.
        await Task.Delay(Lease);
        Console.WriteLine("ready");
        await Task.Delay(Timeout.Infinite);
        return 0;
    }

    private static async Task<List<RunRecord>> ListAllAsync(IWorkflowStore store, WorkflowStatus status)
    {
        var all = new List<RunRecord>();
        RunListQuery? query = new(null, status, null, null, null, 1000);
        while (query is not null)
        {
            var page = await store.ListRunsAsync(query, default);
            all.AddRange(page);
            query = page.Count == query.Limit ? query with { After = (page[^1].CreatedAt, page[^1].WorkflowId) } : null;
        }

        return all;
    }

    private sealed class RecoveredSink(ConcurrentQueue<DateTimeOffset> recovered) : IDurableAlertSink
    {
        public Task SendAsync(DurableAlert alert, CancellationToken cancellationToken)
        {
            if (alert.Kind == DurableAlertKind.RunRecovered)
            {
                recovered.Enqueue(alert.At);
            }

            return Task.CompletedTask;
        }
    }
}
