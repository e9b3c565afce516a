using System.Diagnostics;
using System.Globalization;
using Durably.Runtime;
using Durably.Runtime.Tests.Support;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Durably.Load;

/// <summary>A fresh, empty store for one repetition, and the floor measured on the same storage.</summary>
internal sealed class BenchTarget : IAsyncDisposable
{
    private readonly Func<ValueTask> _cleanup;

    private BenchTarget(string locator, Func<int, Task<double[]>> floor, Func<ValueTask> cleanup)
    {
        Locator = locator;
        Configure = ConfigureFrom(locator);
        MeasureFloorAsync = floor;
        _cleanup = cleanup;
    }

    public Action<DurableOptions> Configure { get; }

    /// <summary>The store as one string another process can open: <c>sqlite:&lt;path&gt;</c> or <c>postgres:&lt;connection string&gt;</c>.</summary>
    public string Locator { get; }

    public static Action<DurableOptions> ConfigureFrom(string locator) => locator.Split(':', 2) switch
    {
        ["sqlite", var path] => o => o.UseSqlite(path),
        ["postgres", var connectionString] => o => o.UsePostgres(connectionString),
        _ => throw new ArgumentException($"'{locator}' is neither sqlite:<path> nor postgres:<connection string>."),
    };

    /// <summary>Latencies, in ms, of that many autocommit single-row INSERTs.</summary>
    public Func<int, Task<double[]>> MeasureFloorAsync { get; }

    public static async Task<BenchTarget> CreateAsync(string kind, string? postgres)
    {
        if (kind == "sqlite")
        {
            var folder = Directory.CreateTempSubdirectory("durably-load-").FullName;
            return new BenchTarget(
                "sqlite:" + Path.Combine(folder, "durably.db"),
                count => SqliteFloorAsync(Path.Combine(folder, "floor.db"), count),
                () =>
                {
                    SqliteConnection.ClearAllPools();
                    Directory.Delete(folder, recursive: true);
                    return ValueTask.CompletedTask;
                });
        }

        var admin = postgres ?? PostgresServer.Instance.AdminConnectionString;
        var name = "durably_load_" + Guid.NewGuid().ToString("N")[..12];
        await ExecuteAsync(admin, $"CREATE DATABASE \"{name}\"");
        var connectionString = new NpgsqlConnectionStringBuilder(admin) { Database = name }.ConnectionString;
        return new BenchTarget(
            "postgres:" + connectionString,
            count => PostgresFloorAsync(connectionString, count),
            async () => await ExecuteAsync(admin, $"DROP DATABASE \"{name}\" WITH (FORCE)"));
    }

    public ValueTask DisposeAsync() => _cleanup();

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<double[]> PostgresFloorAsync(string connectionString, int count)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using (var create = dataSource.CreateCommand("CREATE TABLE floor (id bigserial PRIMARY KEY, payload text NOT NULL)"))
        {
            await create.ExecuteNonQueryAsync();
        }

        var latencies = new double[count];
        for (var i = 0; i < count; i++)
        {
            await using var insert = dataSource.CreateCommand("INSERT INTO floor (payload) VALUES (@payload)");
            insert.Parameters.AddWithValue("payload", "{\"value\":" + i.ToString(CultureInfo.InvariantCulture) + "}");
            var started = Stopwatch.GetTimestamp();
            await insert.ExecuteNonQueryAsync();
            latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }

        return latencies;
    }

    private static Task<double[]> SqliteFloorAsync(string path, int count)
    {
        SQLitePCL.Batteries_V2.Init();
        using var connection = new SqliteConnection($"Data Source={path}");
        connection.Open();
        using (var setup = connection.CreateCommand())
        {
            // The same durability settings as the Durably SQLite store.
            setup.CommandText = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; CREATE TABLE floor (id INTEGER PRIMARY KEY, payload TEXT NOT NULL);";
            setup.ExecuteNonQuery();
        }

        var latencies = new double[count];
        for (var i = 0; i < count; i++)
        {
            using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO floor (payload) VALUES ($payload);";
            insert.Parameters.AddWithValue("$payload", "{\"value\":" + i.ToString(CultureInfo.InvariantCulture) + "}");
            var started = Stopwatch.GetTimestamp();
            insert.ExecuteNonQuery();
            latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }

        return Task.FromResult(latencies);
    }
}
