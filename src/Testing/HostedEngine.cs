using Durably.Runtime;
using Durably.Runtime.Engine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Durably.Testing;

/// <summary>
/// One life of a <see cref="DurableTestHost"/>'s engine: its services, its started worker, its time skipper. A restart
/// builds a new one over the same store, clock and recorder; the old one is kept, stopped, until the host is disposed.
/// </summary>
internal sealed class HostedEngine : IAsyncDisposable
{
    private readonly IHostedService[] _started;

    private HostedEngine(ServiceProvider services, IHostedService[] started, VirtualTime time)
    {
        Services = services;
        _started = started;
        Context = services.GetRequiredService<DurableEngine>().Context;
        Skipper = new TimeSkipper(time, Context);
    }

    public ServiceProvider Services { get; }

    public EngineContext Context { get; }

    public TimeSkipper Skipper { get; }

    /// <summary>What the host needs to build an engine, once per life.</summary>
    internal sealed record Setup(
        Action<IDurablyBuilder> Workflows,
        Action<IServiceCollection>? Services,
        DurableTestHostOptions Options,
        VirtualTime Time,
        Durably.Runtime.Stores.InMemoryWorkflowStore InMemoryStore,
        IDurableAlertSink Alerts,
        Action<Durably.Runtime.Observability.ScheduledRetry> Retried);

    /// <summary>
    /// Builds the services — the test's, the clock, Durably's with the host's settings — prepares the engine
    /// (<paramref name="prepare"/>: the host's substitutes) and only then starts the worker.
    /// </summary>
    public static async Task<HostedEngine> StartAsync(Setup setup, Action<EngineContext>? prepare, CancellationToken cancellationToken)
    {
        var options = setup.Options;
        var collection = new ServiceCollection();
        setup.Services?.Invoke(collection);

        // The host's own clock: time is virtual, one clock per host.
        collection.RemoveAll<TimeProvider>();
        collection.AddSingleton<TimeProvider>(setup.Time);
        var durably = collection.AddDurably(durable =>
        {
            durable.WorkerName = options.WorkerName;
            options.ApplyStore(durable, setup.InMemoryStore);

            // Nothing polls on a short timer of its own: one process holds every run, and the worker sleeps until the
            // next run falls due (or is started or signalled), so skipped time goes straight to the next due time.
            // (30 days: the longest a TimeProvider timer takes is about 49.)
            durable.PollInterval = TimeSpan.FromDays(30);
            durable.VersionCheckInterval = TimeSpan.FromDays(30);
            durable.LeaseDuration = TimeSpan.FromDays(90);
            options.ApplyEngine(durable);
        });
        setup.Workflows(durably.AddAlertSink(setup.Alerts));

        var provider = collection.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        var context = provider.GetRequiredService<DurableEngine>().Context;
        context.Telemetry.RetryObserver = setup.Retried;
        prepare?.Invoke(context);
        var started = new List<IHostedService>();
        try
        {
            foreach (var hosted in provider.GetServices<IHostedService>())
            {
                await hosted.StartAsync(cancellationToken).ConfigureAwait(false);
                started.Add(hosted);
            }
        }
        catch
        {
            await StopAsync(started, CancellationToken.None).ConfigureAwait(false);
            await provider.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return new HostedEngine(provider, [.. started], setup.Time);
    }

    /// <summary>Stops the worker as an application does, letting its runs go; time moves meanwhile (its waits are on the virtual clock).</summary>
    public async Task StopAsync()
    {
        using (Skipper.Skip())
        {
            await StopAsync(_started, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Tells the worker to stop without waiting for it: what a crash leaves behind is fenced off by the host.</summary>
    public async Task AbandonAsync()
    {
        using var now = new CancellationTokenSource();
        await now.CancelAsync().ConfigureAwait(false);
        await StopAsync(_started, now.Token).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await Skipper.DisposeAsync().ConfigureAwait(false);
        await Services.DisposeAsync().ConfigureAwait(false);
    }

    private static async Task StopAsync(IReadOnlyList<IHostedService> started, CancellationToken cancellationToken)
    {
        for (var i = started.Count - 1; i >= 0; i--)
        {
            await started[i].StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
