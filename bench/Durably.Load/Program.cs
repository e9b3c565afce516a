using System.Diagnostics;
using System.Globalization;
using Durably.Bench;
using Durably.Load;
using Durably.Runtime;
using Durably.Runtime.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// The Durably load tool. Not part of `dotnet test`; run it in Release:
//   dotnet run -c Release --project bench/Durably.Load -- [--workload all|peer|throughput|waiting|recovery|operators] [--store all|sqlite|postgres]
//       [--repetitions 3] [--w1 200] [--w2 2000] [--clients 32] [--w3 1000] [--w4 500] [--waiting 10000] [--recovery 500] [--postgres <connection string>]
// peer: W1–W5 as defined for the side-by-side comparison (W3–W5 in PeerWorkloads.cs), the floors, and PostgreSQL's counters.
// W1: workflows one at a time, 0 and 10 no-op steps: per-step overhead = (10-step - 0-step latency) / 10, p50 and p99.
// W2: 32 client loops, each starting a 10-step workflow and awaiting its result, until W2 workflows have run.
// Floor: an autocommit single-row INSERT through the same driver, in the same run.
// W3 (waiting): N runs each take a step and wait for a signal with no timeout, once unloaded (the default) and once kept
// in memory (UnloadThreshold infinite, MaxConcurrentRuns N); the managed heap after a full collection, before and
// while they all wait, gives the bytes each waiting run costs. Then every run is signalled and finishes.
// W4 (recovery): a worker process holding N runs in flight (lease 3 s) is SIGKILLed; a worker with another name takes
// them over: from the last lease's expiry to all claimed, and to all finished (see Recovery.cs).
// operators (not in all): the queries an operator's pages make, on --operators runs (100,000): see OperatorQueries.cs.
// PostgreSQL: the connection string given, else DURABLY_TEST_POSTGRES, else a throwaway cluster (as the tests start).
switch (args)
{
    case ["--victim", var locator, var count, var name]:
        return await Recovery.VictimAsync(locator, int.Parse(count, CultureInfo.InvariantCulture), name);
    case ["--w4-victim", var locator, var count, var name]:
        return await PeerWorkloads.W4VictimAsync(locator, int.Parse(count, CultureInfo.InvariantCulture), name);
    case ["--w4-recover", var locator, var count, var name]:
        return await PeerWorkloads.W4RecoverAsync(locator, int.Parse(count, CultureInfo.InvariantCulture), name);
    case ["--w5-victim", var locator, var count, var name]:
        return await PeerWorkloads.W5VictimAsync(locator, int.Parse(count, CultureInfo.InvariantCulture), name);
}

var settings = Settings.Parse(args);
if (settings is null)
{
    Console.Error.WriteLine("usage: Durably.Load [--workload all|peer|throughput|waiting|recovery] [--store all|sqlite|postgres] [--repetitions N] [--w1 N] [--w2 N] [--clients N] [--w3 N] [--w4 N] [--waiting N] [--recovery N] [--postgres <connection string>]");
    return 2;
}

var figures = new List<(string Store, string Figure, double Value)>();
for (var repetition = 1; repetition <= settings.Repetitions; repetition++)
{
    foreach (var kind in settings.Stores)
    {
        await using var target = await BenchTarget.CreateAsync(kind, settings.PostgresConnectionString);
        Console.Error.WriteLine($"repetition {repetition}/{settings.Repetitions}: {kind}");
        if (settings.Workload is "all" or "throughput" or "peer")
        {
            foreach (var (figure, value) in await Workloads.RunAsync(target, settings))
            {
                figures.Add((kind, figure, value));
            }
        }

        if (settings.Workload is "all" or "waiting")
        {
            foreach (var unload in new[] { true, false })
            {
                foreach (var (figure, value) in await Workloads.RunWaitingAsync(target, settings, unload))
                {
                    figures.Add((kind, figure, value));
                }
            }
        }

        if (settings.Workload is "all" or "peer" && !target.InProcess)
        {
            List<(string Figure, double Value)> peer =
                [.. await PeerWorkloads.RunW3Async(target, settings.W3), .. await PeerWorkloads.RunW4Async(target, settings.W4, TimeSpan.FromSeconds(1)),
                    // As defined, W4 kills after every run may have finished: the same killed early leaves work to recover.
                    .. await PeerWorkloads.RunW4Async(target, settings.W4, TimeSpan.FromMilliseconds(100)), .. await PeerWorkloads.RunW5Async(target, settings.W3)];
            foreach (var (figure, value) in peer)
            {
                figures.Add((kind, figure, value));
            }
        }

        if (settings.Workload is "operators" && !target.InProcess)
        {
            // Not part of "all": it fills the store with --operators runs (100,000 by default).
            foreach (var (figure, value) in await OperatorQueries.RunAsync(target, settings.Operators))
            {
                figures.Add((kind, figure, value));
            }
        }

        if (settings.Workload is "all" or "recovery" && !target.InProcess)
        {
            // The new worker with as many slots as the dead one had runs, and with the default number.
            foreach (var concurrency in new[] { settings.Recovery, DurableOptions.DefaultMaxConcurrentRuns })
            {
                foreach (var (figure, value) in await Recovery.RunAsync(target, settings.Recovery, concurrency))
                {
                    figures.Add((kind, figure, value));
                }
            }
        }
    }
}

Console.WriteLine($"Durably load ({settings.Workload}), {settings.Repetitions} repetitions, W1 {settings.W1} workflows, W2 {settings.W2} workflows x 10 steps with {settings.Clients} clients, "
    + $"W3 {settings.W3} steps, W4 {settings.W4} runs, waiting {settings.Waiting} runs, takeover {settings.Recovery} runs, {Environment.ProcessorCount} cores");
Console.WriteLine($"{"store",-9} {"figure",-46} {"median",10}   spread (min-max)");
foreach (var group in figures.GroupBy(f => (f.Store, f.Figure)))
{
    var values = group.Select(f => f.Value).Order().ToArray();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{group.Key.Store,-9} {group.Key.Figure,-46} {Statistics.Median(values),10:F3}   {values[0]:F3}-{values[^1]:F3}"));
}

return 0;

internal sealed record Settings(string Workload, string[] Stores, int Repetitions, int W1, int W2, int Clients, int Waiting, int Recovery, int W3, int W4, string? PostgresConnectionString, int Operators = 100_000)
{
    public static Settings? Parse(string[] args)
    {
        var settings = new Settings("all", ["memory", "sqlite", "postgres"], 3, 200, 2000, 32, 10_000, 500, 1000, 500, null);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            var value = args[i + 1];
            int Number() => int.TryParse(value, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : throw new ArgumentException($"{args[i]} needs a positive number, not '{value}'.");
            settings = args[i] switch
            {
                "--workload" => settings with { Workload = value is "all" or "peer" or "throughput" or "waiting" or "recovery" or "operators" ? value : throw new ArgumentException($"--workload is all, peer, throughput, waiting, recovery or operators, not '{value}'.") },
                "--operators" => settings with { Operators = Number() },
                "--w3" => settings with { W3 = Number() },
                "--w4" => settings with { W4 = Number() },
                "--waiting" => settings with { Waiting = Number() },
                "--recovery" => settings with { Recovery = Number() },
                "--store" => settings with { Stores = value == "all" ? settings.Stores : value is "sqlite" or "postgres" or "memory" ? [value] : throw new ArgumentException($"--store is all, sqlite, postgres or memory, not '{value}'.") },
                "--repetitions" => settings with { Repetitions = Number() },
                "--w1" => settings with { W1 = Number() },
                "--w2" => settings with { W2 = Number() },
                "--clients" => settings with { Clients = Number() },
                "--postgres" => settings with { PostgresConnectionString = value },
                _ => null,
            };
            if (settings is null)
            {
                return null;
            }
        }

        return args.Length % 2 == 0 ? settings : null;
    }
}

internal static partial class Workloads
{
    public static async Task<List<(string Figure, double Value)>> RunAsync(BenchTarget target, Settings settings)
    {
        var services = new ServiceCollection();
        services.AddDurably(o =>
        {
            target.Configure(o);
            o.WorkerName = "load-worker";
            o.MaxConcurrentRuns = settings.Clients;
        }).AddWorkflow<NoSteps>().AddWorkflow<TenSteps>();
        await using var provider = services.BuildServiceProvider();
        var none = provider.GetRequiredService<NoStepsClient>();
        var ten = provider.GetRequiredService<TenStepsClient>();
        var worker = provider.GetServices<IHostedService>().OfType<DurableWorker>().Single();
        await worker.StartAsync(default);
        try
        {
            var run = 0;
            async Task<double> TimeAsync(Func<string, Task> workflow)
            {
                var id = "load-" + Interlocked.Increment(ref run).ToString(CultureInfo.InvariantCulture);
                var started = Stopwatch.GetTimestamp();
                await workflow(id);
                return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }

            Task NoStepsAsync(string id) => none.StartAsync(1, id).ContinueWith(h => h.Result.WaitForResultAsync()).Unwrap();
            Task TenStepsAsync(string id) => ten.StartAsync(1, id).ContinueWith(h => h.Result.WaitForResultAsync()).Unwrap();

            // Warm-up: JIT, connection pools, statement caches.
            for (var i = 0; i < 20; i++)
            {
                await TimeAsync(NoStepsAsync);
                await TimeAsync(TenStepsAsync);
            }

            var zero = new double[settings.W1];
            var tenSteps = new double[settings.W1];
            var atStart = await target.CountersAsync();
            for (var i = 0; i < settings.W1; i++)
            {
                zero[i] = await TimeAsync(NoStepsAsync);
            }

            var afterZero = await target.CountersAsync();
            for (var i = 0; i < settings.W1; i++)
            {
                tenSteps[i] = await TimeAsync(TenStepsAsync);
            }

            var afterTen = await target.CountersAsync();
            var counters = new List<(string, double)>();
            if (atStart is not null && afterZero is not null && afterTen is not null)
            {
                // Per step: what ten-step runs cost beyond zero-step runs, over all their steps (the counters' own reads cancel out).
                var zeroCost = afterZero - atStart;
                var tenCost = afterTen - afterZero;
                var steps = settings.W1 * 10.0;
                counters.Add(("W1 PostgreSQL statements per step", (tenCost.Statements - zeroCost.Statements) / steps));
                counters.Add(("W1 PostgreSQL commits per step", (tenCost.Commits - zeroCost.Commits) / steps));
                counters.Add(("W1 PostgreSQL WAL syncs per step", (tenCost.WalSyncs - zeroCost.WalSyncs) / steps));
                counters.Add(("W1 PostgreSQL WAL bytes per step", (tenCost.WalBytes - zeroCost.WalBytes) / steps));
                counters.Add(("W1 PostgreSQL statements per 0-step run", zeroCost.Statements / (double)settings.W1));
                counters.Add(("W1 PostgreSQL commits per 0-step run", zeroCost.Commits / (double)settings.W1));
            }

            // Timed again in ten blocks, each of fenced INSERTs, then 0-step runs, then 10-step runs, one after another as
            // above: the ratios compare figures taken within the same second (a flush's time drifts over seconds), and
            // neither side runs between the other's calls (on one disk, each would slow the other's next flush). Not in the
            // counted pass above, whose statements would include the floor's.
            var beside = new List<double>();
            await using (var probe = await target.OpenFloorProbeAsync())
            {
                var block = Math.Max(1, settings.W1 / 10);
                for (var first = 0; probe is not null && first < settings.W1; first += block)
                {
                    var last = Math.Min(first + block, settings.W1);
                    for (var k = first; k < last; k++)
                    {
                        beside.Add(await probe.TimeFencedInsertAsync());
                    }

                    for (var k = first; k < last; k++)
                    {
                        zero[k] = await TimeAsync(NoStepsAsync);
                    }

                    for (var k = first; k < last; k++)
                    {
                        tenSteps[k] = await TimeAsync(TenStepsAsync);
                    }
                }
            }

            var remaining = settings.W2;
            var w2 = new System.Collections.Concurrent.ConcurrentBag<double>();
            var wall = Stopwatch.StartNew();
            // What this process spends on W2 (the database server's share is not in it): CPU time and thread-pool hand-offs.
            var (cpuBefore, itemsBefore, machineBefore) = (Process.GetCurrentProcess().TotalProcessorTime, ThreadPool.CompletedWorkItemCount, MachineCpu.Busy());
            await Task.WhenAll(Enumerable.Range(0, settings.Clients).Select(_ => Task.Run(async () =>
            {
                while (Interlocked.Decrement(ref remaining) >= 0)
                {
                    w2.Add(await TimeAsync(TenStepsAsync));
                }
            })));
            var seconds = wall.Elapsed.TotalSeconds;
            var w2Steps = settings.W2 * 10.0;
            var w2Cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMicroseconds / w2Steps;
            var w2Items = (ThreadPool.CompletedWorkItemCount - itemsBefore) / w2Steps;
            var w2Machine = MachineCpu.Busy() - machineBefore is { } busy ? busy.TotalMicroseconds / w2Steps : double.NaN;
            var floors = await target.MeasureFloorsAsync(200);
            var (attempting, completed) = await JournalWritesAsync(provider.GetRequiredService<Durably.Runtime.Journal.IWorkflowStore>(), 200);
            List<(string, double)> ratios = beside.Count == 0 ? [] :
            [
                ("floor: fenced INSERT beside W1 p50 (ms)", Statistics.Percentile([.. beside], 50)),
                ("W1 per-step overhead / fenced INSERT floor (ratio)",
                    (Statistics.Percentile(tenSteps, 50) - Statistics.Percentile(zero, 50)) / 10 / Statistics.Percentile([.. beside], 50)),
                ("W1 0-step run / fenced INSERT floor (ratio)", Statistics.Percentile(zero, 50) / Statistics.Percentile([.. beside], 50)),
                // The same against the floor measured on its own after W2, for comparison with runs before the floor was interleaved.
                ("W1 per-step overhead / floor after W2 (ratio)",
                    (Statistics.Percentile(tenSteps, 50) - Statistics.Percentile(zero, 50)) / 10 / Statistics.Percentile(floors[2].Latencies, 50)),
                ("W1 0-step run / floor after W2 (ratio)", Statistics.Percentile(zero, 50) / Statistics.Percentile(floors[2].Latencies, 50)),
            ];

            return
            [
                ("W1 per-step overhead p50 (ms)", (Statistics.Percentile(tenSteps, 50) - Statistics.Percentile(zero, 50)) / 10),
                ("W1 per-step overhead p99 (ms)", (Statistics.Percentile(tenSteps, 99) - Statistics.Percentile(zero, 99)) / 10),
                ("W1 0-step workflow latency p50 (ms)", Statistics.Percentile(zero, 50)),
                ("W1 10-step workflow latency p50 (ms)", Statistics.Percentile(tenSteps, 50)),
                ("W2 throughput (workflows/s)", settings.W2 / seconds),
                ("W2 throughput (steps/s)", settings.W2 * 10 / seconds),
                ("W2 workflow latency p50 (ms)", Statistics.Percentile([.. w2], 50)),
                ("W2 workflow latency p99 (ms)", Statistics.Percentile([.. w2], 99)),
                ("W2 this process's CPU per step (µs)", w2Cpu),
                ("W2 thread-pool work items per step", w2Items),
                ("W2 machine CPU per step, all processes (µs)", w2Machine),
                .. counters,
                .. floors.Select(f => (f.Figure.Replace("(ms)", "p50 (ms)", StringComparison.Ordinal), Statistics.Percentile(f.Latencies, 50))),
                ("store alone: attempting-row write (deferred) p50 (ms)", Statistics.Percentile(attempting, 50)),
                ("store alone: completed-row write p50 (ms)", Statistics.Percentile(completed, 50)),
                .. ratios,
            ];
        }
        finally
        {
            await worker.StopAsync(default);
        }
    }
}

internal static partial class Workloads
{
    /// <summary>
    /// The two journal writes of a step, timed through the store's own API with nothing of the engine around them: a
    /// run is created and claimed, then <paramref name="count"/> steps each write their attempting and completed rows.
    /// </summary>
    private static async Task<(double[] Attempting, double[] Completed)> JournalWritesAsync(Durably.Runtime.Journal.IWorkflowStore store, int count)
    {
        // A workflow no worker registers, so the running worker leaves the run to this loop.
        var id = "journal-writes-" + Guid.NewGuid().ToString("N");
        var now = DateTimeOffset.UtcNow;
        await store.CreateRunAsync(Durably.Runtime.Journal.RunRecord.Started(id, "JournalWritesOnly", 1, "1", now), default);
        var lease = await store.TryClaimAsync(id, "journal-writes", TimeSpan.FromMinutes(5), default) ?? throw new InvalidOperationException("not claimed");
        var (attempting, completed) = (new double[count], new double[count]);
        for (var i = -20; i < count; i++)
        {
            var entry = Durably.Runtime.Journal.JournalEntry.Attempting(id, i + 20, "Next", Durably.Runtime.Journal.OperationKind.Step, "{\"value\":1}", now) with { Attempts = 1 };
            var started = Stopwatch.GetTimestamp();
            // As the engine writes a step without a compensation: the attempting row deferred, the outcome durable.
            await store.RecordAttemptAsync(lease, entry, Durably.Runtime.Journal.JournalDurability.Deferred, default);
            var middle = Stopwatch.GetTimestamp();
            await store.CompleteEntryAsync(lease, entry with { State = Durably.Runtime.Journal.JournalEntryState.Completed, OutputJson = "2", CompletionIndex = i + 20, CompletedAt = now }, default);
            if (i >= 0)
            {
                (attempting[i], completed[i]) = (Stopwatch.GetElapsedTime(started, middle).TotalMilliseconds, Stopwatch.GetElapsedTime(middle).TotalMilliseconds);
            }
        }

        await store.ReleaseAsync(lease, default);
        return (attempting, completed);
    }

    /// <summary>W3: what <paramref name="settings"/>.Waiting runs cost while they wait for a signal, unloaded or kept in memory.</summary>
    public static async Task<List<(string Figure, double Value)>> RunWaitingAsync(BenchTarget target, Settings settings, bool unload)
    {
        const int warmUp = 20;
        var count = settings.Waiting;
        var mode = unload ? "unloaded" : "in memory";
        var services = new ServiceCollection();
        services.AddDurably(o =>
        {
            target.Configure(o);
            o.WorkerName = "waiting-worker-" + (unload ? "u" : "m");
            o.MaxConcurrentRuns = unload ? settings.Clients : warmUp + count;
            o.UnloadThreshold = unload ? TimeSpan.Zero : Timeout.InfiniteTimeSpan;
        }).AddWorkflow<Waiter>();
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<WaiterClient>();
        var worker = provider.GetRequiredService<IEnumerable<IHostedService>>().OfType<DurableWorker>().Single();
        var prefix = $"wait-{(unload ? "u" : "m")}-{Guid.NewGuid():N}-";
        Waiter.Asked = 0;
        await worker.StartAsync(default);
        try
        {
            // Warm-up on a few runs of the same kind, so that code and pools are in the baseline, not the figure.
            await WaitAllAsync(client, prefix + "warm-", warmUp, worker, unload);
            var before = Heap();
            var started = Stopwatch.StartNew();
            await WaitAllAsync(client, prefix, count, worker, unload);
            var settle = started.Elapsed.TotalSeconds;
            var during = Heap();
            var loaded = worker.RunsInProgress;
            Console.Error.WriteLine($"  {count} runs waiting ({mode}): heap {before / 1e6:F1} -> {during / 1e6:F1} MB, {loaded} executions loaded");

            var resumed = Stopwatch.StartNew();
            var durable = provider.GetRequiredService<Durably.IDurableClient>();
            for (var i = 0; i < count; i++)
            {
                await durable.SignalAsync(prefix + i.ToString(CultureInfo.InvariantCulture), "go", 1);
            }

            var results = await Task.WhenAll(Enumerable.Range(0, count).Select(i => client.GetHandle(prefix + i.ToString(CultureInfo.InvariantCulture)).WaitForResultAsync()));
            if (results.Where((value, i) => value != i + 1).Any())
            {
                throw new InvalidOperationException("A waiting run finished with the wrong result.");
            }

            return
            [
                ($"W3 {mode}: heap per waiting run (bytes)", (double)(during - before) / count),
                ($"W3 {mode}: heap while waiting (MB)", during / 1e6),
                ($"W3 {mode}: runs loaded while waiting", loaded),
                ($"W3 {mode}: start {count} to all waiting (s)", settle),
                ($"W3 {mode}: signal to finish, all (runs/s)", count / resumed.Elapsed.TotalSeconds),
            ];
        }
        finally
        {
            await worker.StopAsync(default);
        }
    }

    private static async Task WaitAllAsync(WaiterClient client, string prefix, int count, DurableWorker worker, bool unload)
    {
        var asked = Waiter.Asked;
        for (var i = 0; i < count; i++)
        {
            await client.StartAsync(i, prefix + i.ToString(CultureInfo.InvariantCulture));
        }

        // Every run has taken its first step; then its wait is journaled and (when unloading) it is released.
        while (Waiter.Asked < asked + count || (unload && worker.RunsInProgress > 0))
        {
            await Task.Delay(50);
        }

        await Task.Delay(TimeSpan.FromSeconds(2));
    }

    private static long Heap()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }

        return GC.GetTotalMemory(forceFullCollection: true);
    }
}

internal static class Statistics
{
    public static double Median(double[] sorted) => sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;

    /// <summary>Nearest-rank percentile.</summary>
    public static double Percentile(double[] values, double percent)
    {
        var sorted = values.Order().ToArray();
        var rank = (int)Math.Ceiling(percent / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }
}
