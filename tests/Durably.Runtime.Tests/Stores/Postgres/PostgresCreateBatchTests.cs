using Durably.Runtime.Journal;
using Durably.Runtime.Stores;
using Durably.Runtime.Tests.Support;
using Npgsql;

namespace Durably.Runtime.Tests.Stores.Postgres;

/// <summary>
/// Runs started at the same moment are created together: one round trip and one transaction per batch, on one
/// connection, instead of a connection (a server process) each. Every caller still gets its own answer, and one bad
/// run in a batch fails alone.
/// </summary>
public sealed class PostgresCreateBatchTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    private readonly string _schema = "creates_" + Guid.NewGuid().ToString("N")[..12];
    private readonly string _application = "creates_" + Guid.NewGuid().ToString("N")[..12];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Runs_started_at_once_are_created_on_one_connection_and_each_caller_gets_its_own_answer(bool early)
    {
        await using var store = Open();
        await using var hold = await HoldIdAsync("first");
        var first = await FirstBlockedAsync(store, early);

        // While the first create waits at the server, forty more arrive: twenty ids, each started twice, and the first's
        // id once more. They queue behind it and go together.
        var others = Enumerable.Range(0, 40).Select(i => CreateAsync(store, $"run-{i % 20}", early)).Append(CreateAsync(store, "first", early)).ToArray();
        await Task.Delay(100);
        Assert.All(others, o => Assert.False(o.IsCompleted));
        await hold.Transaction.RollbackAsync();

        var (run, created) = await first;
        Assert.True(created);
        Assert.Equal("first", run.WorkflowId);
        var answers = await Task.WhenAll(others);
        Assert.False(answers[^1].Created);
        Assert.Equal("first", answers[^1].Run.WorkflowId);
        foreach (var id in Enumerable.Range(0, 20).Select(i => $"run-{i}"))
        {
            var both = answers.Where(a => a.Run.WorkflowId == id).ToArray();
            Assert.Equal(2, both.Length);
            Assert.Single(both, a => a.Created);
            Assert.Equal(both[0].Run.CreatedAt, both[1].Run.CreatedAt);
            Assert.Equal(early ? "worker" : null, both[0].Run.Owner);
        }

        Assert.Equal(21L, await CountAsync($"SELECT count(*) FROM \"{_schema}\".runs"));
        // The open's connection, the notification listener's, and the creates' one: not one per caller (42 before).
        Assert.InRange(await CountAsync($"SELECT count(*) FROM pg_stat_activity WHERE application_name = '{_application}'"), 1, 3);
    }

    [Fact]
    public async Task A_run_the_server_refuses_fails_alone_and_the_rest_of_its_batch_is_created()
    {
        await using var store = Open();
        await using var hold = await HoldIdAsync("first");
        var first = await FirstBlockedAsync(store, early: false);

        // Behind it, in one batch: ordinary runs, a run with a 1 MiB input, and one whose input holds a NUL character,
        // which PostgreSQL's text cannot store (the whole batch's transaction fails on it, and is sent again run by run).
        var huge = "\"" + new string('x', 1 << 20) + "\"";
        var good = Enumerable.Range(0, 10).Select(i => CreateAsync(store, $"good-{i}", early: false)).ToArray();
        var large = CreateAsync(store, "large", early: false, huge);
        var hostile = CreateAsync(store, "hostile", early: false, "\"a\u0000b\"");
        await hold.Transaction.RollbackAsync();

        Assert.True((await first).Created);
        Assert.All(await Task.WhenAll(good), g => Assert.True(g.Created));
        Assert.Equal(huge, (await large).Run.InputJson);
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => hostile);
        Assert.Contains("0x00", refused.ToString(), StringComparison.Ordinal);
        Assert.Equal(12L, await CountAsync($"SELECT count(*) FROM \"{_schema}\".runs"));
        Assert.Null(await store.GetRunAsync("hostile", default));
    }

    [Fact]
    public async Task A_start_cancelled_while_it_waits_for_its_batch_is_not_sent()
    {
        await using var store = Open();
        await using var hold = await HoldIdAsync("first");
        var first = await FirstBlockedAsync(store, early: false);

        using var cancel = new CancellationTokenSource();
        var cancelled = store.CreateRunAsync(RunRecord.Started("cancelled", "Orders", 1, "{}", DateTimeOffset.UtcNow), cancel.Token);
        var kept = CreateAsync(store, "kept", early: false);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        await hold.Transaction.RollbackAsync();

        Assert.True((await first).Created);
        Assert.True((await kept).Created);
        Assert.Null(await store.GetRunAsync("cancelled", default));
        // The id is free: a later start creates it.
        Assert.True((await CreateAsync(store, "cancelled", early: false)).Created);
    }

    /// <summary>Starts run "first", which waits at the server behind the held insert of its id: creates after it queue.</summary>
    private async Task<Task<(RunRecord Run, bool Created)>> FirstBlockedAsync(PostgresWorkflowStore store, bool early)
    {
        var first = CreateAsync(store, "first", early);
        await database.UntilBlockedAsync(_schema);
        return first;
    }

    private PostgresWorkflowStore Open() => PostgresWorkflowStore.Open(
        new NpgsqlConnectionStringBuilder(database.ConnectionString) { ApplicationName = _application }.ConnectionString,
        new PostgresStoreOptions { Schema = _schema });

    private static Task<(RunRecord Run, bool Created)> CreateAsync(PostgresWorkflowStore store, string id, bool early, string input = "{}")
    {
        var run = RunRecord.Started(id, "Orders", 1, input, DateTimeOffset.UtcNow);
        return early ? store.CreateRunEarlyAsync(run with { Owner = "worker", Epoch = 1 }, default) : store.CreateRunAsync(run, default);
    }

    /// <summary>Inserts run <paramref name="workflowId"/> in a transaction left open: a create of that id waits for it at the server.</summary>
    private async Task<PostgresDatabase.RowHold> HoldIdAsync(string workflowId)
    {
        var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        var transaction = await connection.BeginTransactionAsync();
        await using (var insert = new NpgsqlCommand($"""
            INSERT INTO "{_schema}".runs (workflow_id, workflow_name, version, input_json, status, epoch, created_at, updated_at)
            VALUES (@id, 'Orders', 1, 'null', 0, 0, now(), now())
            """, connection, transaction))
        {
            insert.Parameters.AddWithValue("id", workflowId);
            await insert.ExecuteNonQueryAsync();
        }

        return new PostgresDatabase.RowHold(connection, transaction);
    }

    private async Task<long> CountAsync(string sql) => Convert.ToInt64(await database.ScalarAsync(sql), System.Globalization.CultureInfo.InvariantCulture);
}
