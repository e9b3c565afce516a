using Durably.Runtime.Stores;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Durably.Runtime;

/// <summary>Chooses the PostgreSQL store, for many worker processes on one database.</summary>
public static class PostgresDurableOptionsExtensions
{
    /// <summary>
    /// Keeps runs in the PostgreSQL database at <paramref name="connectionString"/>, shared by any number of worker
    /// processes; Durably creates and migrates its tables in their own schema (<see cref="PostgresStoreOptions.Schema"/>).
    /// </summary>
    /// <param name="options">The options to set <see cref="DurableOptions.StoreFactory"/> on.</param>
    /// <param name="connectionString">An Npgsql connection string.</param>
    /// <param name="configure">Adjusts the store's settings.</param>
    /// <returns>The options.</returns>
    /// <exception cref="ArgumentException">The connection string is empty or a store setting is invalid.</exception>
    public static DurableOptions UsePostgres(this DurableOptions options, string connectionString, Action<PostgresStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var storeOptions = ConfigureStore(configure);
        options.StoreFactory = services => PostgresWorkflowStore.Open(connectionString, storeOptions, services.GetService<TimeProvider>(), StoreLogger(services));
        return options;
    }

    /// <summary>
    /// Keeps runs in the PostgreSQL database of the <see cref="NpgsqlDataSource"/> registered in dependency injection
    /// (which the application owns and disposes).
    /// </summary>
    /// <param name="options">The options to set <see cref="DurableOptions.StoreFactory"/> on.</param>
    /// <param name="configure">Adjusts the store's settings.</param>
    /// <returns>The options.</returns>
    /// <exception cref="ArgumentException">A store setting is invalid.</exception>
    public static DurableOptions UsePostgres(this DurableOptions options, Action<PostgresStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var storeOptions = ConfigureStore(configure);
        options.StoreFactory = services => PostgresWorkflowStore.Open(
            services.GetService<NpgsqlDataSource>() ?? throw new InvalidOperationException(
                "DurableOptions.UsePostgres() without a connection string needs an NpgsqlDataSource registered in dependency injection " +
                "(e.g. services.AddSingleton(NpgsqlDataSource.Create(connectionString))), and none is."),
            storeOptions, services.GetService<TimeProvider>(), StoreLogger(services));
        return options;
    }

    private static PostgresStoreOptions ConfigureStore(Action<PostgresStoreOptions>? configure)
    {
        var storeOptions = new PostgresStoreOptions();
        configure?.Invoke(storeOptions);
        storeOptions.Validate();
        return storeOptions;
    }

    private static ILogger StoreLogger(IServiceProvider services)
        => services.GetService<ILoggerFactory>()?.CreateLogger<PostgresWorkflowStore>() ?? (ILogger)NullLogger.Instance;
}
