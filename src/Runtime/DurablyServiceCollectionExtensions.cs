using Durably.Infrastructure;
using Durably.Runtime.Client;
using Durably.Runtime.Engine;
using Durably.Runtime.Journal;
using Durably.Runtime.Stores.Sqlite;
using Durably.Runtime.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Durably.Runtime;

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
        services.TryAddSingleton<IWorkflowStore>(sp => options.StoreFactory is { } factory
            ? factory(sp)
            : SqliteWorkflowStore.Open(DurableOptions.DefaultDatabasePath, sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(sp => new DurableEngine(
            sp.GetRequiredService<IWorkflowStore>(),
            sp.GetServices<WorkflowDefinition>(),
            sp.GetRequiredService<DurableOptions>(),
            sp,
            sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<IDurableClient>(sp => new DurableClient(sp.GetRequiredService<DurableEngine>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.Extensions.Hosting.IHostedService, DurableWorker>());
        return new DurablyBuilder(services);
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
