using BenchmarkDotNet.Attributes;
using Durably.Testing;

namespace Durably.Benchmarks;

/// <summary>
/// Real time a test spends on long waits in a <see cref="DurableTestHost"/>, whose clock skips: each benchmark starts a
/// host, runs one workflow to its end and disposes the host. Compare with <see cref="NoWait"/>, the same without a wait.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class TestKitBenchmarks
{
    /// <summary>A host and a run with nothing to wait for: the floor.</summary>
    [Benchmark(Baseline = true)]
    public Task<int> NoWait() => RunAsync<KitNoWaitClient, int>(client => client.StartAsync(1));

    /// <summary>A 30-day sleep.</summary>
    [Benchmark]
    public Task<DateTimeOffset> ThirtyDaySleep() => RunAsync<KitSleepClient, DateTimeOffset>(client => client.StartAsync(30));

    /// <summary>Six attempts of a step, an hour of backoff between each two.</summary>
    [Benchmark]
    public Task<int> SixAttemptsAnHourApart() => RunAsync<KitRetryClient, int>(client => client.StartAsync(Guid.NewGuid().ToString("N")));

    /// <summary>A signal that never comes, waited for two days.</summary>
    [Benchmark]
    public Task<bool> TwoDaySignalTimeout() => RunAsync<KitSignalClient, bool>(client => client.StartAsync(2));

    private static async Task<TOutput> RunAsync<TClient, TOutput>(Func<TClient, Task<WorkflowHandle<TOutput>>> start)
        where TClient : notnull
    {
        await using var host = await DurableTestHost.StartAsync(w => w.AddWorkflow<KitNoWait>().AddWorkflow<KitSleep>().AddWorkflow<KitRetry>().AddWorkflow<KitSignal>());
        return await host.RunToCompletionAsync(start);
    }
}

/// <summary>One step, no wait.</summary>
[DurableWorkflow]
public partial class KitNoWait
{
    [WorkflowRun]
    public async Task<int> RunAsync(int value) => await Echo(value);

    [Step]
    private Task<int> Echo(int value) => Task.FromResult(value);
}

/// <summary>Sleeps some days.</summary>
[DurableWorkflow]
public partial class KitSleep
{
    [WorkflowRun]
    public async Task<DateTimeOffset> RunAsync(int days)
    {
        await Workflow.SleepAsync(TimeSpan.FromDays(days));
        return Workflow.Now;
    }
}

/// <summary>Fails five times, an hour apart.</summary>
[DurableWorkflow]
public partial class KitRetry
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> s_attempts = new();

    [WorkflowRun]
    public async Task<int> RunAsync(string key) => await Call(key);

    [Step(MaxAttempts = 6, InitialDelay = "1h", BackoffCoefficient = 1, Jitter = 0)]
    private Task<int> Call(string key)
    {
        var attempt = s_attempts.AddOrUpdate(key, 1, (_, n) => n + 1);
        return attempt < 6 ? throw new TimeoutException("not yet") : Task.FromResult(attempt);
    }
}

/// <summary>Waits some days for a signal that does not come.</summary>
[DurableWorkflow]
public partial class KitSignal
{
    [WorkflowRun]
    public async Task<bool> RunAsync(int days) => (await WaitForGo(TimeSpan.FromDays(days))).IsReceived;

    [Signal]
    private partial Task<SignalResult<bool>> WaitForGo(TimeSpan timeout);
}
