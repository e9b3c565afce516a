using Durably.Runtime.Journal;
using Durably.Runtime.Stores;
using Durably.Runtime.Tests.Support;
using Npgsql;

namespace Durably.Runtime.Tests.Stores.Postgres;

/// <summary>
/// The store's batching queues each keep a connection open for their batches (see <c>HeldConnection</c>): calls one
/// after another go to one server process, a lost connection is replaced, and a small pool is left alone.
/// </summary>
public sealed class PostgresHeldConnectionTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    private readonly string _schema = "held_" + Guid.NewGuid().ToString("N")[..12];
    private readonly string _application = "held_" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public async Task Writes_one_after_another_go_to_one_server_process_and_one_lost_is_replaced()
    {
        await using var store = Open(maxPoolSize: null);
        var lease = await HoldRunAsync(store);
        // Reads at once leave the pool a dozen idle connections, which it lends first in, first out.
        await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => store.GetRunAsync("held", default)));
        for (var sequence = 0; sequence < 20; sequence++)
        {
            Assert.False((await store.CompleteEntryAsync(lease, Completed(sequence), default)).Fenced);
        }

        // Every write went to the same server process: the one whose last statement was a journal write (borrowing a
        // connection for each, they went round the dozen).
        var writers = await WritersAsync();
        var writer = Assert.Single(writers);

        // That process is gone (a server restart, a proxy's timeout): the next write goes on a new one.
        await database.ScalarAsync("SELECT pg_terminate_backend(@pid)", ("pid", writer));
        Assert.False((await store.CompleteEntryAsync(lease, Completed(20), default)).Fenced);
        Assert.False((await store.CompleteEntryAsync(lease, Completed(21), default)).Fenced);
        Assert.Equal(22L, await CountAsync($"SELECT count(*) FROM \"{_schema}\".journal"));
        Assert.DoesNotContain(writer, await WritersAsync());
    }

    [Fact]
    public async Task A_small_pool_is_borrowed_from_as_any_call_does()
    {
        // Eight connections at most: too few to keep four of them. Creates and writes at once still go through.
        await using var store = Open(maxPoolSize: 8);
        var lease = await HoldRunAsync(store);
        var creates = Enumerable.Range(0, 30).Select(i => store.CreateRunAsync(RunRecord.Started($"small-{i}", "Orders", 1, "{}", DateTimeOffset.UtcNow), default));
        var writes = Enumerable.Range(0, 30).Select(i => store.CompleteEntryAsync(lease, Completed(i), default));
        await Task.WhenAll(Task.WhenAll(creates), Task.WhenAll(writes)).WaitAsync(Wait.Timeout);
        Assert.Equal(31L, await CountAsync($"SELECT count(*) FROM \"{_schema}\".runs"));
        Assert.Equal(30L, await CountAsync($"SELECT count(*) FROM \"{_schema}\".journal"));
    }

    private PostgresWorkflowStore Open(int? maxPoolSize)
    {
        var settings = new NpgsqlConnectionStringBuilder(database.ConnectionString) { ApplicationName = _application };
        if (maxPoolSize is { } max)
        {
            settings.MaxPoolSize = max;
        }

        return PostgresWorkflowStore.Open(settings.ConnectionString, new PostgresStoreOptions { Schema = _schema });
    }

    private static async Task<RunLease> HoldRunAsync(PostgresWorkflowStore store)
    {
        await store.CreateRunAsync(RunRecord.Started("held", "Orders", 1, "{}", DateTimeOffset.UtcNow), default);
        return (await store.TryClaimAsync("held", "worker", TimeSpan.FromMinutes(5), default))!;
    }

    private async Task<List<int>> WritersAsync()
    {
        var writers = new List<int>();
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT pid FROM pg_stat_activity WHERE application_name = @application AND query LIKE '%INSERT INTO%journal%'", connection);
        command.Parameters.AddWithValue("application", _application);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            writers.Add(reader.GetInt32(0));
        }

        return writers;
    }

    private async Task<long> CountAsync(string sql) => Convert.ToInt64(await database.ScalarAsync(sql), System.Globalization.CultureInfo.InvariantCulture);

    private static JournalEntry Completed(long sequence)
        => JournalEntry.Attempting("held", sequence, "Charge", OperationKind.Step, "{}", DateTimeOffset.UtcNow)
            with { State = JournalEntryState.Completed, OutputJson = "1", Attempts = 1, CompletedAt = DateTimeOffset.UtcNow };
}
