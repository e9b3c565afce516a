using Durably.Runtime.Journal;
using Durably.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime.Tests.Stores.Postgres;

/// <summary>
/// <c>[Step(Transactional = true)]</c> on PostgreSQL: the step's own writes and its journal row commit together — a
/// failed attempt's writes roll back, and a worker that lost the run before its commit writes neither. The kill test is
/// <c>Crash/TransactionalKillTests</c>.
/// </summary>
public sealed class TransactionalStepTests(PostgresDatabase database) : StoreTestBase, IClassFixture<PostgresDatabase>
{
    private readonly LedgerScript _script = new();

    private protected override TestStorage CreateStorage() => TestStorage.Postgres(database, Clock, "transactional");

    private async Task<TestHost> HostAsync()
    {
        await database.ScalarAsync("CREATE TABLE IF NOT EXISTS ledger_rows (entry text NOT NULL, idempotency_key text NOT NULL, attempt integer NOT NULL)");
        return Track(new TestHost(OpenStore(), d => d.AddWorkflow<Ledger>(), s => s.AddSingleton<TimeProvider>(Clock).AddSingleton(_script), "ledger-worker",
            o => o.UnloadThreshold = Timeout.InfiniteTimeSpan));
    }

    private async Task<List<(string Key, int Attempt)>> RowsAsync(string entry)
    {
        await using var connection = new Npgsql.NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var select = new Npgsql.NpgsqlCommand("SELECT idempotency_key, attempt FROM ledger_rows WHERE entry = @entry ORDER BY attempt", connection);
        select.Parameters.AddWithValue("entry", entry);
        await using var reader = await select.ExecuteReaderAsync();
        var rows = new List<(string, int)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetString(0), reader.GetInt32(1)));
        }

        return rows;
    }

    [Fact]
    public async Task The_step_s_write_commits_with_its_journal_row()
    {
        var host = await HostAsync();
        var entry = "e-" + Guid.NewGuid().ToString("N");
        await host.Get<LedgerClient>().StartAsync(entry, "ledger-1");

        var result = await host.Engine.ExecuteAsync("ledger-1").WaitAsync(Wait.Timeout);

        Assert.Equal(WorkflowStatus.Completed, result.Status);
        Assert.Equal([("ledger-1/Book/0", 1)], await RowsAsync(entry));
        var row = (await host.Store.LoadAsync("ledger-1", default))!.Journal.Single();
        Assert.Equal((JournalEntryState.Completed, 1, "1"), (row.State, row.Attempts, row.OutputJson));
    }

    [Fact]
    public async Task A_failed_attempt_s_write_rolls_back_and_the_retry_s_commits()
    {
        _script.AfterInsert = (attempt, _) => attempt < 3 ? throw new TimeoutException($"ledger slow on attempt {attempt}") : Task.CompletedTask;
        var host = await HostAsync();
        var entry = "e-" + Guid.NewGuid().ToString("N");
        await host.Get<LedgerClient>().StartAsync(entry, "ledger-2");

        Assert.Equal(WorkflowStatus.Completed, (await host.Engine.ExecuteAsync("ledger-2").WaitAsync(Wait.Timeout)).Status);

        // Three inserts were made, one per attempt; only the third attempt's committed.
        Assert.Equal([("ledger-2/Book/0", 3)], await RowsAsync(entry));
        Assert.Equal(3, await host.Client.WaitForResultAsync<int>("ledger-2"));
    }

    [Fact]
    public async Task A_worker_that_lost_the_run_before_its_commit_writes_neither_the_row_nor_the_journal()
    {
        var inserted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var proceed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _script.AfterInsert = async (_, _) =>
        {
            inserted.TrySetResult();
            await proceed.Task;
        };
        var host = await HostAsync();
        var entry = "e-" + Guid.NewGuid().ToString("N");
        await host.Get<LedgerClient>().StartAsync(entry, "ledger-3");
        var execution = host.Engine.ExecuteAsync("ledger-3");
        await inserted.Task.WaitAsync(Wait.Timeout);

        // Meanwhile the run is taken over (its lease lapsed on the database clock): a new epoch fences the old worker.
        await database.ScalarAsync($"UPDATE \"{((Durably.Runtime.Stores.PostgresWorkflowStore)host.Store).Schema}\".runs SET epoch = epoch + 1, owner = 'thief' WHERE workflow_id = 'ledger-3'");
        proceed.SetResult();

        Assert.Equal(ExecutionOutcome.Fenced, (await execution.WaitAsync(Wait.Timeout)).Outcome);
        Assert.Empty(await RowsAsync(entry));
        Assert.Equal(JournalEntryState.Attempting, (await host.Store.LoadAsync("ledger-3", default))!.Journal.Single().State);
    }

    [Fact]
    public void Another_store_refuses_a_transactional_step_at_start_up_naming_it()
    {
        var services = new ServiceCollection().AddSingleton(_script);
        services.AddDurably(o => o.StoreFactory = _ => new Durably.Runtime.Stores.InMemoryWorkflowStore()).AddWorkflow<Ledger>();
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<Durably.Runtime.DurableEngine>());

        Assert.Equal("Step 'Book' of workflow 'Ledger' is [Step(Transactional = true)], which needs the PostgreSQL store (its writes commit with the journal); "
            + "this engine's store is InMemoryWorkflowStore. Use options.UsePostgres(…), or remove Transactional.", error.Message);
    }

    [Fact]
    public void Outside_a_transactional_step_there_is_no_transaction_to_get()
    {
        var context = new StepContext("run-1", "Plain", 0, 1, new ServiceCollection().BuildServiceProvider(), default);

        var error = Assert.Throws<InvalidOperationException>(() => context.GetPostgresTransaction());

        Assert.Equal("Step 'Plain' of run 'run-1' has no database transaction: only a [Step(Transactional = true)] body, on the PostgreSQL store, gets one.", error.Message);
    }

    [Fact]
    public async Task A_step_connection_is_reset_before_it_is_lent_again_while_the_store_skips_the_reset_on_its_own()
    {
        var host = await HostAsync();
        var seen = new List<(int Pid, string Name)>();
        _script.AfterInsert = async (_, token) =>
        {
            // Session state left behind by application code: a plain SET outlives the transaction.
            var db = StepContext.Current!.GetPostgresTransaction();
            await using var look = new Npgsql.NpgsqlCommand("SELECT pg_backend_pid(), current_setting('application_name')", db.Connection, db.Transaction);
            await using (var reader = await look.ExecuteReaderAsync(token))
            {
                await reader.ReadAsync(token);
                seen.Add((reader.GetInt32(0), reader.GetString(1)));
            }

            await using var leak = new Npgsql.NpgsqlCommand("SET application_name = 'left-by-a-step'", db.Connection, db.Transaction);
            await leak.ExecuteNonQueryAsync(token);
        };

        foreach (var entry in new[] { "reset-1", "reset-2" })
        {
            await host.Get<LedgerClient>().StartAsync(entry, entry);
            Assert.Equal(WorkflowStatus.Completed, (await host.Engine.ExecuteAsync(entry).WaitAsync(Wait.Timeout)).Status);
        }

        // The second step got the same pooled connection, reset: the first step's setting did not reach it.
        Assert.Equal(2, seen.Count);
        Assert.Equal(seen[0].Pid, seen[1].Pid);
        Assert.NotEqual("left-by-a-step", seen[1].Name);
    }
}
