using BenchmarkDotNet.Attributes;
using Durably.Bench;
using Durably.Runtime;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Benchmarks;

/// <summary>
/// What the engine itself costs, with the store out of the way (the in-memory store): one run of ten no-op steps and
/// one run of none, each started, executed and read back. Per step: (TenSteps − NoSteps) / 10, in time and in bytes.
/// </summary>
[MemoryDiagnoser]
public class EngineBenchmarks
{
    private ServiceProvider _provider = null!;
    private DurableEngine _engine = null!;
    private NoStepsClient _none = null!;
    private TenStepsClient _ten = null!;
    private long _next;

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection();
        services.AddDurably(o => o.UseInMemoryStore()).AddWorkflow<NoSteps>().AddWorkflow<TenSteps>();
        _provider = services.BuildServiceProvider();
        _engine = _provider.GetRequiredService<DurableEngine>();
        _none = _provider.GetRequiredService<NoStepsClient>();
        _ten = _provider.GetRequiredService<TenStepsClient>();
    }

    [GlobalCleanup]
    public void Cleanup() => _provider.Dispose();

    /// <summary>A run with no step: start, execute, result.</summary>
    [Benchmark(Baseline = true)]
    public async Task<int> NoStepsRun()
    {
        var id = "none-" + Interlocked.Increment(ref _next).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var handle = await _none.StartAsync(1, id);
        await _engine.ExecuteAsync(id);
        return await handle.WaitForResultAsync();
    }

    /// <summary>A run of ten no-op steps: start, execute, result.</summary>
    [Benchmark]
    public async Task<int> TenStepsRun()
    {
        var id = "ten-" + Interlocked.Increment(ref _next).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var handle = await _ten.StartAsync(1, id);
        await _engine.ExecuteAsync(id);
        return await handle.WaitForResultAsync();
    }
}
