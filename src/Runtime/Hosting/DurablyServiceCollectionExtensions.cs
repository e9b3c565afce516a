using Durably;
using Durably.Infrastructure;
using Durably.Runtime;
using Durably.Runtime.Hosting;
using Durably.Runtime.Journal;
using Durably.Runtime.Stores;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;

// In the namespace of IServiceCollection, as Microsoft.Extensions.* and Npgsql do: AddDurably needs no using.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Durably in a service collection.</summary>
public static class DurablyServiceCollectionExtensions
{
    /// <summary>
    /// Adds the Durably engine, its store (the SQLite file <see cref="DurableOptions.DefaultDatabasePath"/> unless
    /// configured otherwise), <see cref="IDurableClient"/> and the hosted <see cref="DurableWorker"/>. Add workflows
    /// with <see cref="IDurablyBuilder.AddWorkflow{TWorkflow}"/>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Adjusts the options.</param>
    /// <returns>A builder to add workflows with.</returns>
    public static IDurablyBuilder AddDurably(this IServiceCollection services, Action<DurableOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = new DurableOptions();
        configure?.Invoke(options);
        options.Validate();

        services.TryAddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IWorkflowStore>(sp => options.StoreFactory is { } factory ? factory(sp) : OpenDefaultStore(sp));
        services.TryAddSingleton(sp => new DurableEngine(
            sp.GetRequiredService<IWorkflowStore>(),
            sp.GetServices<WorkflowDefinition>(),
            sp.GetRequiredService<DurableOptions>(),
            sp,
            sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<IDurableClient>(sp => new DurableClient(sp.GetRequiredService<DurableEngine>()));
        services.TryAddSingleton(sp => new DurableOperator(sp.GetRequiredService<DurableEngine>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.Extensions.Hosting.IHostedService, DurableWorker>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.Extensions.Hosting.IHostedService, RetentionService>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IDurableAlertSink, LogAlertSink>());
        return new DurablyBuilder(services);
    }

    /// <summary>The store an application gets when it chooses none: the SQLite file next to it, zero configuration.</summary>
    private static IWorkflowStore OpenDefaultStore(IServiceProvider services)
        => SqliteWorkflowStore.Open(DurableOptions.DefaultDatabasePath, services.GetRequiredService<TimeProvider>());

    /// <summary>
    /// Sends Durably's alerts (a run failed, was dead-lettered, or was recovered from a crashed worker) to
    /// <typeparamref name="TSink"/> too, a singleton created by DI. The log sink is always there.
    /// </summary>
    /// <typeparam name="TSink">The sink.</typeparam>
    /// <param name="builder">The Durably registration.</param>
    /// <returns>The builder.</returns>
    public static IDurablyBuilder AddAlertSink<TSink>(this IDurablyBuilder builder)
        where TSink : class, IDurableAlertSink
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IDurableAlertSink, TSink>());
        return builder;
    }

    /// <summary>Sends Durably's alerts to <paramref name="sink"/> too.</summary>
    /// <param name="builder">The Durably registration.</param>
    /// <param name="sink">The sink.</param>
    /// <returns>The builder.</returns>
    public static IDurablyBuilder AddAlertSink(this IDurablyBuilder builder, IDurableAlertSink sink)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(sink);
        builder.Services.AddSingleton(sink);
        return builder;
    }

    /// <summary>
    /// POSTs each alert as JSON to <paramref name="url"/> (see <see cref="WebhookAlertSink"/>): a failing or slow webhook
    /// is logged and never affects a run.
    /// </summary>
    /// <param name="builder">The Durably registration.</param>
    /// <param name="url">The absolute http or https address.</param>
    /// <param name="configure">Sets the timeout and headers.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The address or an option is invalid.</exception>
    public static IDurablyBuilder AddWebhookAlerts(this IDurablyBuilder builder, Uri url, Action<WebhookAlertOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(url);
        var options = new WebhookAlertOptions { Url = url };
        configure?.Invoke(options);
        options.Validate();
        builder.Services.AddSingleton<IDurableAlertSink>(_ => new WebhookAlertSink(options));
        return builder;
    }

    /// <summary>
    /// Adds Durably's health checks, tagged <c>durably</c>: <c>durably-store</c> (the store answers a read in time),
    /// <c>durably-worker</c> (this process's worker loop goes round) and <c>durably-dead-letters</c> (<c>Degraded</c>
    /// when more runs are dead-lettered than the threshold). Map them with <c>app.MapHealthChecks("/health")</c>.
    /// </summary>
    /// <param name="builder">The app's health checks: <c>services.AddHealthChecks()</c>.</param>
    /// <param name="configure">Sets the store timeout, the worker's allowed silence and the dead-letter threshold.</param>
    /// <returns>The same builder.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public static IHealthChecksBuilder AddDurablyHealthChecks(this IHealthChecksBuilder builder, Action<DurablyHealthCheckOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new DurablyHealthCheckOptions();
        configure?.Invoke(options);
        options.Validate();
        var tags = options.Tags.ToArray();
        builder.Add(new HealthCheckRegistration("durably-store", sp => new StoreHealthCheck(sp.GetRequiredService<DurableEngine>(), options), HealthStatus.Unhealthy, tags));
        builder.Add(new HealthCheckRegistration("durably-worker",
            sp => new WorkerHealthCheck(sp.GetRequiredService<DurableEngine>(), sp.GetServices<Microsoft.Extensions.Hosting.IHostedService>(), options), HealthStatus.Unhealthy, tags));
        builder.Add(new HealthCheckRegistration("durably-dead-letters", sp => new DeadLetterHealthCheck(sp.GetRequiredService<DurableEngine>(), options), HealthStatus.Degraded, tags));
        return builder;
    }

    private sealed class DurablyBuilder(IServiceCollection services) : IDurablyBuilder
    {
        public IServiceCollection Services { get; } = services;

        public IDurablyBuilder AddWorkflow<TWorkflow>()
            where TWorkflow : class, IDurableWorkflow<TWorkflow>
        {
            Services.TryAddEnumerable(ServiceDescriptor.Singleton(TWorkflow.Definition));
            TWorkflow.AddServices(Services);
            return this;
        }
    }
}

/// <summary>Adds workflows to a Durably registration.</summary>
public interface IDurablyBuilder
{
    /// <summary>The service collection.</summary>
    IServiceCollection Services { get; }

    /// <summary>Registers a generated workflow, its typed client and its step table.</summary>
    /// <typeparam name="TWorkflow">A <c>[DurableWorkflow]</c> class.</typeparam>
    /// <returns>This builder.</returns>
    IDurablyBuilder AddWorkflow<TWorkflow>()
        where TWorkflow : class, IDurableWorkflow<TWorkflow>;
}
