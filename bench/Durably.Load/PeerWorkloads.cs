using System.Diagnostics;
using System.Globalization;
using Durably.Runtime.Hosting;
using Durably.Runtime.Journal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Durably.Load;

/// <summary>
/// The workloads as defined for the side-by-side comparison with a peer library (besides W1 and W2 in Program.cs):
/// W3 one run of 1,000 steps in a row; W4 500 runs of ten 20 ms steps, the worker process SIGKILLed 1 s after all are
/// started and a new process with the same worker name finishing them; W5 a 1,000-step run killed at its last step, resumed.
/// </summary>
internal static class PeerWorkloads
{
    private const string W4Worker = "w4-worker";
    private const string W5Worker = "w5-worker";

    /// <summary>W3: one run of <paramref name="steps"/> sequential no-op steps, start to result.</summary>
    public static async Task<List<(string Figure, double Value)>> RunW3Async(BenchTarget target, int steps)
    {
        await using var provider = Build(target, "w3-worker", 1);
        var client = provider.GetRequiredService<LongRunClient>();
        var worker = Worker(provider);
        await worker.StartAsync(default);
        try
        {
            await (await client.StartAsync(10, "w3-warm-" + Guid.NewGuid().ToString("N"))).WaitForResultAsync();
            var started = Stopwatch.GetTimestamp();
            var result = await (await client.StartAsync(steps, "w3-" + Guid.NewGuid().ToString("N"))).WaitForResultAsync();
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            return result == steps
                ? [($"W3 one run of {steps} steps (steps/s)", steps / seconds), ($"W3 one run of {steps} steps (s)", seconds)]
                : throw new InvalidOperationException($"W3 returned {result}, not {steps}.");
        }
        finally
        {
            await worker.StopAsync(default);
        }
    }

    /// <summary>W4: see the class summary. Spawn of the new process → first recovered step and → all done; steps re-run.</summary>
    public static async Task<List<(string Figure, double Value)>> RunW4Async(BenchTarget target, int runs, TimeSpan killAfter)
    {
        var label = killAfter == TimeSpan.FromSeconds(1) ? "W4" : $"W4 killed at {killAfter.TotalMilliseconds:0} ms,";
        var prefix = $"w4-{Guid.NewGuid():N}-";
        int journaled;
        using (var victim = Spawn("--w4-victim", target.Locator, runs.ToString(CultureInfo.InvariantCulture), prefix))
        {
            await ExpectAsync(victim, "started");
            await Task.Delay(killAfter);
            victim.Kill();
            await victim.WaitForExitAsync();
        }

        // What the journal holds now: any of these that runs again is a re-run.
        await using (var reader = Build(target, "w4-reader", 1))
        {
            var store = reader.GetRequiredService<IWorkflowStore>();
            var keys = new List<string>();
            for (var i = 0; i < runs; i++)
            {
                var id = prefix + i.ToString(CultureInfo.InvariantCulture);
                var snapshot = await store.LoadAsync(id, default) ?? throw new InvalidOperationException($"{id} is missing");
                keys.AddRange(snapshot.Journal.Where(e => e.State == JournalEntryState.Completed).Select(e => StepContext.CreateIdempotencyKey(id, e.OperationId, e.Sequence)));
            }

            await File.WriteAllLinesAsync(KeysFile(prefix), keys);
            journaled = keys.Count;
            Console.Error.WriteLine($"  {label} {keys.Count} of {runs * 10} steps journaled when the worker was killed");
        }

        var spawned = DateTime.UtcNow;
        using var recoverer = Spawn("--w4-recover", target.Locator, runs.ToString(CultureInfo.InvariantCulture), prefix);
        var line = await ExpectAsync(recoverer, "done");
        await recoverer.WaitForExitAsync();
        File.Delete(KeysFile(prefix));
        var fields = line.Split(' ').Skip(1).Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        var (engineStarted, firstBody, done, reRuns) = (new DateTime(fields[0], DateTimeKind.Utc), new DateTime(fields[1], DateTimeKind.Utc), new DateTime(fields[2], DateTimeKind.Utc), fields[3]);
        return
        [
            ($"{label} {runs} runs: spawn to all done (s)", (done - spawned).TotalSeconds),
            ($"{label} {runs} runs: engine start to all done (s)", (done - engineStarted).TotalSeconds),
            // NaN when the killed worker had finished every step: nothing was left to recover.
            ($"{label} {runs} runs: engine start to first recovered step (s)", fields[1] == 0 ? double.NaN : (firstBody - engineStarted).TotalSeconds),
            ($"{label} {runs} runs: steps left to recover at the kill", runs * 10 - journaled),
            ($"{label} {runs} runs: journaled steps re-run", reRuns),
        ];
    }

    /// <summary>The W4 victim: starts the runs, says "started", and works on them until it is killed.</summary>
    public static async Task<int> W4VictimAsync(string locator, int runs, string prefix)
    {
        var provider = Build(locator, W4Worker, runs);
        var client = provider.GetRequiredService<TenSlowStepsClient>();
        await Worker(provider).StartAsync(default);
        for (var i = 0; i < runs; i++)
        {
            await client.StartAsync(i, prefix + i.ToString(CultureInfo.InvariantCulture));
        }

        Console.WriteLine("started");
        await Task.Delay(Timeout.Infinite);
        return 0;
    }

    /// <summary>The W4 recoverer: the same worker name, a new process; prints "done engineStart firstBody allDone reRuns" (UTC ticks).</summary>
    public static async Task<int> W4RecoverAsync(string locator, int runs, string prefix)
    {
        TenSlowSteps.JournaledBefore = [.. await File.ReadAllLinesAsync(KeysFile(prefix))];
        await using var provider = Build(locator, W4Worker, runs);
        var client = provider.GetRequiredService<TenSlowStepsClient>();
        var engineStarted = DateTime.UtcNow;
        var worker = Worker(provider);
        await worker.StartAsync(default);
        // One wait at a time: 500 waits at once would each read the store (and open a pool of connections) while the
        // worker starts, and the figure would time the harness's reads rather than the recovery.
        foreach (var i in Enumerable.Range(0, runs))
        {
            await client.GetHandle(prefix + i.ToString(CultureInfo.InvariantCulture)).WaitForResultAsync();
        }

        var done = DateTime.UtcNow;
        await worker.StopAsync(default);
        Console.WriteLine($"done {engineStarted.Ticks} {Interlocked.Read(ref TenSlowSteps.FirstBodyAt)} {done.Ticks} {TenSlowSteps.ReRuns}");
        return 0;
    }

    /// <summary>W5: a run of <paramref name="steps"/> steps killed in its last step; a new engine resumes it (one journal read).</summary>
    public static async Task<List<(string Figure, double Value)>> RunW5Async(BenchTarget target, int steps)
    {
        var id = $"w5-{Guid.NewGuid():N}";
        using (var victim = Spawn("--w5-victim", target.Locator, steps.ToString(CultureInfo.InvariantCulture), id))
        {
            await ExpectAsync(victim, "ready");
            victim.Kill();
            await victim.WaitForExitAsync();
        }

        LongRun.Bodies = 0;
        await using var provider = Build(target, W5Worker, 1);
        var client = provider.GetRequiredService<LongRunClient>();
        var started = Stopwatch.GetTimestamp();
        var worker = Worker(provider);
        await worker.StartAsync(default);
        try
        {
            var result = await client.GetHandle(id).WaitForResultAsync();
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            return result == steps && LongRun.Bodies == 1
                ? [($"W5 resume of a {steps}-step run at its last step (s)", seconds)]
                : throw new InvalidOperationException($"W5 returned {result} after {LongRun.Bodies} step bodies; expected {steps} after 1.");
        }
        finally
        {
            await worker.StopAsync(default);
        }
    }

    /// <summary>The W5 victim: runs the long run until its last step, says "ready", and hangs there until killed.</summary>
    public static async Task<int> W5VictimAsync(string locator, int steps, string id)
    {
        LongRun.HangAtLast = true;
        var provider = Build(locator, W5Worker, 1);
        await Worker(provider).StartAsync(default);
        await provider.GetRequiredService<LongRunClient>().StartAsync(steps, id);
        while (Volatile.Read(ref LongRun.Bodies) < steps)
        {
            await Task.Delay(10);
        }

        Console.WriteLine("ready");
        await Task.Delay(Timeout.Infinite);
        return 0;
    }

    private static string KeysFile(string prefix) => Path.Combine(Path.GetTempPath(), prefix + "journaled.txt");

    private static ServiceProvider Build(BenchTarget target, string worker, int slots) => Build(target.Locator, worker, slots);

    private static ServiceProvider Build(string locator, string worker, int slots)
    {
        var services = new ServiceCollection();
        services.AddDurably(o =>
        {
            BenchTarget.ConfigureFrom(locator)(o);
            (o.WorkerName, o.MaxConcurrentRuns, o.LeaseDuration) = (worker, slots, TimeSpan.FromSeconds(3));
        }).AddWorkflow<LongRun>().AddWorkflow<TenSlowSteps>();
        return services.BuildServiceProvider();
    }

    private static DurableWorker Worker(ServiceProvider provider) => provider.GetServices<IHostedService>().OfType<DurableWorker>().Single();

    private static Process Spawn(params string[] arguments)
        => Process.Start(new ProcessStartInfo("dotnet", [typeof(PeerWorkloads).Assembly.Location, .. arguments]) { RedirectStandardOutput = true })
            ?? throw new InvalidOperationException("The helper process did not start.");

    private static async Task<string> ExpectAsync(Process process, string word)
    {
        var line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromMinutes(10));
        return line is not null && line.StartsWith(word, StringComparison.Ordinal)
            ? line
            : throw new InvalidOperationException($"The helper said '{line}' instead of '{word}'.");
    }
}
