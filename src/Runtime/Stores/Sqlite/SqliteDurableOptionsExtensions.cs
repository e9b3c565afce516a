using Durably.Runtime.Stores;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime;

/// <summary>Chooses the SQLite store (the default, at <see cref="DurableOptions.DefaultDatabasePath"/>) with another file.</summary>
public static class SqliteDurableOptionsExtensions
{
    /// <summary>Keeps runs in the SQLite file at <paramref name="path"/>, created on first use.</summary>
    /// <param name="options">The options to set <see cref="DurableOptions.StoreFactory"/> on.</param>
    /// <param name="path">The database file; relative paths resolve against the current directory.</param>
    /// <returns>The options.</returns>
    /// <exception cref="ArgumentException">The path is empty.</exception>
    public static DurableOptions UseSqlite(this DurableOptions options, string path)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        options.StoreFactory = services => SqliteWorkflowStore.Open(path, services.GetService<TimeProvider>());
        return options;
    }
}
