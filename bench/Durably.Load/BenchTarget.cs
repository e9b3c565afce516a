using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using Durably.Runtime;
using Durably.Runtime.Tests.Support;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Durably.Load;

/// <summary>
/// A fresh, empty store for one repetition; the floors measured on the same storage (a round trip, an autocommit
/// insert, an insert fenced by a lease check as a journal write is); and, on PostgreSQL, the server's counters.
/// </summary>
internal sealed class BenchTarget : IAsyncDisposable
{
    private readonly Func<ValueTask> _cleanup;
    private readonly Func<Func<DbConnection>> _floorConnection;
    private readonly string? _postgres;

    private BenchTarget(string locator, Func<Func<DbConnection>> floorConnection, Func<ValueTask> cleanup, string? postgres)
    {
        Locator = locator;
        Configure = ConfigureFrom(locator);
        _floorConnection = floorConnection;
        _cleanup = cleanup;
        _postgres = postgres;
    }

    public Action<DurableOptions> Configure { get; }

    /// <summary>The store as one string another process can open: <c>sqlite:&lt;path&gt;</c> or <c>postgres:&lt;connection string&gt;</c>.</summary>
    public string Locator { get; }

    public static Action<DurableOptions> ConfigureFrom(string locator) => locator.Split(':', 2) switch
    {
        ["memory", _] => o => o.UseInMemoryStore(),
        ["sqlite", var path] => o => o.UseSqlite(path),
        ["postgres", var connectionString] => o => o.UsePostgres(connectionString),
        _ => throw new ArgumentException($"'{locator}' is neither sqlite:<path> nor postgres:<connection string>."),
    };

    /// <summary>Whether runs live in this process only (the in-memory store: the engine's own cost, no floors, no other processes).</summary>
    public bool InProcess => Locator.StartsWith("memory:", StringComparison.Ordinal);

    public static async Task<BenchTarget> CreateAsync(string kind, string? postgres)
    {
        if (kind == "memory")
        {
            return new BenchTarget("memory:", () => throw new InvalidOperationException("The in-memory store has no floor."), () => ValueTask.CompletedTask, null);
        }

        if (kind == "sqlite")
        {
            var folder = Directory.CreateTempSubdirectory("durably-load-").FullName;
            return new BenchTarget(
                "sqlite:" + Path.Combine(folder, "durably.db"),
                () => () => new SqliteConnection($"Data Source={Path.Combine(folder, "floor.db")}"),
                () =>
                {
                    SqliteConnection.ClearAllPools();
                    Directory.Delete(folder, recursive: true);
                    return ValueTask.CompletedTask;
                },
                null);
        }

        var admin = postgres ?? PostgresServer.Instance.AdminConnectionString;
        var name = "durably_load_" + Guid.NewGuid().ToString("N")[..12];
        await ExecuteAsync(admin, $"CREATE DATABASE \"{name}\"");
        var connectionString = new NpgsqlConnectionStringBuilder(admin) { Database = name }.ConnectionString;
        var dataSource = NpgsqlDataSource.Create(connectionString);
        return new BenchTarget(
            "postgres:" + connectionString,
            () => dataSource.CreateConnection,
            async () =>
            {
                await dataSource.DisposeAsync();
                await ExecuteAsync(admin, $"DROP DATABASE \"{name}\" WITH (FORCE)");
            },
            connectionString);
    }

    public ValueTask DisposeAsync() => _cleanup();

    /// <summary>
    /// The floors, in ms per call, over <paramref name="count"/> calls each on one open connection: a round trip
    /// (<c>SELECT 1</c>), an autocommit single-row INSERT, and the same INSERT fenced by a check of the run's owner and
    /// epoch in the same statement — the shape of a journal write.
    /// </summary>
    public async Task<List<(string Figure, double[] Latencies)>> MeasureFloorsAsync(int count)
    {
        if (InProcess)
        {
            return [];
        }

        await using var connection = await OpenFloorAsync();
        var p = connection is SqliteConnection ? "$" : "@";
        return
        [
            ("floor: round trip (SELECT 1) (ms)", await TimeAsync(connection, count, "SELECT 1", _ => [])),
            ("floor: autocommit 1-row INSERT (ms)", await TimeAsync(connection, count, $"INSERT INTO floor (payload) VALUES ({p}payload)",
                i => [("payload", "{\"value\":" + i.ToString(CultureInfo.InvariantCulture) + "}")])),
            ("floor: fenced INSERT (ms)", await FencedInsertsAsync(connection, count)),
        ];
    }

    /// <summary>
    /// A connection that times one fenced INSERT per call, to interleave with a workload's own timings: a ratio to the
    /// floor then compares figures taken at the same moments (a disk's flush time drifts over seconds). Null in process.
    /// </summary>
    public async Task<FloorProbe?> OpenFloorProbeAsync() => InProcess ? null : new FloorProbe(await OpenFloorAsync());

    internal sealed class FloorProbe(DbConnection connection) : IAsyncDisposable
    {
        /// <summary>One fenced INSERT, in ms.</summary>
        public async Task<double> TimeFencedInsertAsync() => (await FencedInsertsAsync(connection, 1, warmUp: 0))[0];

        public ValueTask DisposeAsync() => connection.DisposeAsync();
    }

    private async Task<DbConnection> OpenFloorAsync()
    {
        var connection = _floorConnection()();
        await connection.OpenAsync();
        await ExecuteAsync(connection, connection is SqliteConnection
            ? "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; CREATE TABLE IF NOT EXISTS floor (id INTEGER PRIMARY KEY, payload TEXT NOT NULL); "
                + "CREATE TABLE IF NOT EXISTS floor_runs (id TEXT PRIMARY KEY, owner TEXT, epoch INTEGER); "
                + "CREATE TABLE IF NOT EXISTS floor_journal (id TEXT, seq INTEGER, payload TEXT, PRIMARY KEY (id, seq)); "
                + "INSERT OR IGNORE INTO floor_runs VALUES ('run', 'w', 1);"
            : "CREATE TABLE IF NOT EXISTS floor (id bigserial PRIMARY KEY, payload text NOT NULL); "
                + "CREATE TABLE IF NOT EXISTS floor_runs (id text PRIMARY KEY, owner text, epoch bigint); "
                + "CREATE TABLE IF NOT EXISTS floor_journal (id text, seq bigint, payload text, PRIMARY KEY (id, seq)); "
                + "INSERT INTO floor_runs VALUES ('run', 'w', 1) ON CONFLICT DO NOTHING;");
        return connection;
    }

    /// <summary>The shape of a journal write: an INSERT fenced by a check of the run's owner and epoch in the same statement.</summary>
    private static Task<double[]> FencedInsertsAsync(DbConnection connection, int count, int warmUp = 20)
    {
        var p = connection is SqliteConnection ? "$" : "@";
        return TimeAsync(connection, count,
            $"INSERT INTO floor_journal SELECT {p}id, {p}seq, {p}payload WHERE EXISTS (SELECT 1 FROM floor_runs WHERE id = {p}id AND owner = {p}owner AND epoch = {p}epoch)",
            _ => [("id", "run"), ("seq", Interlocked.Increment(ref s_sequence)), ("payload", "{\"value\":1}"), ("owner", "w"), ("epoch", 1L)], warmUp);
    }

    private static long s_sequence;

    /// <summary>The server's counters (PostgreSQL only): statements, commits, WAL bytes and WAL syncs so far.</summary>
    public async Task<ServerCounters?> CountersAsync()
    {
        if (_postgres is null)
        {
            return null;
        }

        // Other sessions publish their statistics at most once a second (pg_stat_database, pg_stat_wal): let them.
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        await using var connection = new NpgsqlConnection(_postgres);
        await connection.OpenAsync();
        try
        {
            await ExecuteAsync(connection, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
            await using var command = new NpgsqlCommand("""
                SELECT (SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()))::bigint,
                    (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()),
                    (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint,
                    (SELECT wal_sync FROM pg_stat_wal)
                """, connection);
            await using var reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            return new ServerCounters(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
        }
        catch (PostgresException ex)
        {
            // pg_stat_statements is not loaded (shared_preload_libraries) on a server given from outside.
            Console.Error.WriteLine($"  server counters unavailable: {ex.MessageText}");
            return null;
        }
    }

    private static async Task<double[]> TimeAsync(DbConnection connection, int count, string sql, Func<int, (string, object)[]> parameters, int warmUp = 20)
    {
        var latencies = new double[count];
        for (var i = -warmUp; i < count; i++)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var (name, value) in parameters(i))
            {
                var parameter = command.CreateParameter();
                parameter.ParameterName = connection is SqliteConnection ? "$" + name : name;
                parameter.Value = value;
                command.Parameters.Add(parameter);
            }

            var started = Stopwatch.GetTimestamp();
            await command.ExecuteNonQueryAsync();
            if (i >= 0)
            {
                latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }
        }

        return latencies;
    }

    private static async Task ExecuteAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}

/// <summary>PostgreSQL's cumulative counters for the bench database (WAL: the cluster's).</summary>
internal sealed record ServerCounters(long Statements, long Commits, long WalBytes, long WalSyncs)
{
    public static ServerCounters operator -(ServerCounters a, ServerCounters b)
        => new(a.Statements - b.Statements, a.Commits - b.Commits, a.WalBytes - b.WalBytes, a.WalSyncs - b.WalSyncs);
}
