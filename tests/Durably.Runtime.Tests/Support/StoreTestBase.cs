using Durably.Runtime.Journal;
using Durably.Runtime.Stores;
using Microsoft.Data.Sqlite;

namespace Durably.Runtime.Tests.Support;

/// <summary>
/// A test class run unchanged on every store: each concrete subclass names its storage; the tests open stores over it
/// (as separate processes would), on a clock they move by hand, and hosts they create are disposed afterwards.
/// </summary>
public abstract class StoreTestBase : IDisposable
{
    private readonly List<IAsyncDisposable> _hosts = [];
    private TestStorage? _storage;

    private protected ManualTimeProvider Clock { get; } = new(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));

    /// <summary>This test's storage, on <see cref="Clock"/>.</summary>
    private protected abstract TestStorage CreateStorage();

    /// <summary>A store over this test's storage; every call opens the same storage.</summary>
    private protected IWorkflowStore OpenStore() => (_storage ??= CreateStorage()).Open();

    private protected TestHost Track(TestHost host)
    {
        _hosts.Add(host);
        return host;
    }

    public void Dispose()
    {
        foreach (var host in _hosts)
        {
            host.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        _storage?.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>Where a test's runs live: in memory, a SQLite file, or a PostgreSQL schema of the class's database.</summary>
internal abstract class TestStorage : IDisposable
{
    public abstract IWorkflowStore Open();

    public virtual void Dispose()
    {
    }

    public static TestStorage InMemory(TimeProvider clock) => new InMemoryStorage(new InMemoryWorkflowStore(clock));

    public static TestStorage Sqlite(TimeProvider clock) => new SqliteStorage(clock);

    public static TestStorage Postgres(PostgresDatabase database, TimeProvider clock, string prefix)
        => new PostgresStorage(database.ConnectionString, prefix + "_" + Guid.NewGuid().ToString("N")[..12], clock);

    // In-memory storage is the store object itself: "another process" on the same storage is the same object.
    private sealed class InMemoryStorage(InMemoryWorkflowStore store) : TestStorage
    {
        public override IWorkflowStore Open() => store;
    }

    private sealed class SqliteStorage(TimeProvider clock) : TestStorage
    {
        private readonly string _path = Path.Combine(Path.GetTempPath(), "durably-test-" + Guid.NewGuid().ToString("N") + ".db");

        public override IWorkflowStore Open() => SqliteWorkflowStore.Open(_path, clock);

        public override void Dispose()
        {
            SqliteConnection.ClearAllPools();
            foreach (var file in Directory.GetFiles(Path.GetDirectoryName(_path)!, Path.GetFileName(_path) + "*"))
            {
                File.Delete(file);
            }
        }
    }

    private sealed class PostgresStorage(string connectionString, string schema, TimeProvider clock) : TestStorage
    {
        public override IWorkflowStore Open() => PostgresWorkflowStore.Open(connectionString, new PostgresStoreOptions { Schema = schema }, clock);
    }
}
