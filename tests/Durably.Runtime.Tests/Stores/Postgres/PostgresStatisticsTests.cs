using Durably.Runtime.Stores;
using Durably.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime.Tests.Stores.Postgres;

/// <summary>
/// Plans made while the store's tables were tiny: PostgreSQL keeps a prepared statement's plan until the table's
/// statistics change, and a plan made for a table of a few rows scans it. The store refreshes the statistics of the
/// tables it grows, so that a step's write stays a primary-key lookup however many runs the table holds.
/// </summary>
public sealed class PostgresStatisticsTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    private static readonly TimeSpan s_timeout = Wait.Timeout * 2;
    private readonly string _schema = "stats_" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public async Task A_step_write_stays_a_key_lookup_after_the_runs_table_grew_past_the_statistics_its_plans_were_made_with()
    {
        await using var host = new TestHost(PostgresWorkflowStore.Open(database.ConnectionString, new PostgresStoreOptions { Schema = _schema }),
            d => d.AddWorkflow<FiveSteps>(), s => s.AddSingleton(new BodyLog()).AddSingleton(Gate.Open()));
        var client = host.Get<FiveStepsClient>();

        // Autovacuum's timing is the server's: off for these tables, so that only the store can refresh their statistics.
        await database.ScalarAsync($"ALTER TABLE {_schema}.runs SET (autovacuum_enabled = false); ALTER TABLE {_schema}.journal SET (autovacuum_enabled = false)");
        await RunAsync(client, host, "tiny", 5);
        // Statistics of a tiny table, as autovacuum takes them early in a database's life; then plans are made with them
        // (a prepared statement gets its generic plan at its sixth execution on a connection).
        await database.ScalarAsync($"ANALYZE {_schema}.runs; ANALYZE {_schema}.journal");
        await RunAsync(client, host, "planned", 10);

        // The table grows twentyfold: runs started and not yet executed (a backlog, each an active row).
        const int Grown = 4_000;
        await Parallel.ForEachAsync(Enumerable.Range(0, Grown), new ParallelOptions { MaxDegreeOfParallelism = 16 },
            async (i, token) => await client.StartAsync("backlog", $"backlog-{i}", token));

        var before = await TuplesReadAsync();
        const int Measured = 10;
        await RunAsync(client, host, "measured", Measured);
        var perRun = (await TuplesReadAsync() - before) / Measured;

        // The store saw the growth and analyzed the table (no one else did: autovacuum is off for it).
        Assert.InRange(((PostgresWorkflowStore)host.Store).Analyses, 1, 10);
        // Each run here is a handful of key lookups on the runs table (its create, five fenced writes, its end): a plan
        // that scans the table or the active runs' index reads thousands of rows per statement. (Without the store's
        // refresh, this test read 400–2,000 rows per run; with it, 3.)
        Assert.True(perRun < 50, $"Each run read {perRun} rows of the runs table ({Grown} backlog runs): its statements scan the table.");
    }

    private static async Task RunAsync(FiveStepsClient client, TestHost host, string prefix, int count)
    {
        for (var i = 0; i < count; i++)
        {
            await client.StartAsync("order", $"{prefix}-{i}");
            var result = await host.Engine.ExecuteAsync($"{prefix}-{i}").WaitAsync(s_timeout);
            Assert.Equal(ExecutionOutcome.Finished, result.Outcome);
        }
    }

    /// <summary>
    /// Rows of the runs table read so far (by sequential scans, and through any of its indexes), once every session's
    /// counters have reached the statistics system. A session reports them as it goes idle, but at most once a second:
    /// one that goes idle sooner after its last report holds them back for ten (PostgreSQL's idle interval), so the
    /// counters are read once that has passed, and until they stop moving.
    /// </summary>
    private async Task<long> TuplesReadAsync()
    {
        var sql = $"""
            SELECT coalesce(t.seq_tup_read, 0) + coalesce((SELECT sum(i.idx_tup_read) FROM pg_stat_user_indexes i WHERE i.relid = t.relid), 0)
            FROM pg_stat_user_tables t WHERE t.schemaname = '{_schema}' AND t.relname = 'runs'
            """;
        await Task.Delay(TimeSpan.FromSeconds(10));
        long last = -1;
        while (true)
        {
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            var now = Convert.ToInt64(await database.ScalarAsync(sql), System.Globalization.CultureInfo.InvariantCulture);
            if (now == last)
            {
                return now;
            }

            last = now;
        }
    }

    [Fact]
    public async Task A_store_whose_user_does_not_own_the_tables_leaves_their_statistics_to_autovacuum()
    {
        // The tables are created by their owner; another role may read and write them, and nothing more (it may not
        // create anything in the database: the store opens all the same).
        await using (PostgresWorkflowStore.Open(database.ConnectionString, new PostgresStoreOptions { Schema = _schema }))
        {
        }

        var role = "durably_user_" + Guid.NewGuid().ToString("N")[..12];
        await database.AdminScalarAsync($"CREATE ROLE {role} LOGIN PASSWORD 'not-the-owner'");
        try
        {
            await database.ScalarAsync($"""
                GRANT USAGE ON SCHEMA {_schema} TO {role};
                GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {_schema} TO {role};
                GRANT USAGE ON ALL SEQUENCES IN SCHEMA {_schema} TO {role};
                ALTER TABLE {_schema}.runs SET (autovacuum_enabled = false);
                """);
            var asUser = new Npgsql.NpgsqlConnectionStringBuilder(database.ConnectionString) { Username = role, Password = "not-the-owner" }.ConnectionString;
            var store = PostgresWorkflowStore.Open(asUser, new PostgresStoreOptions { Schema = _schema });
            await using (store)
            {
                // Well past a thousand calls, with the runs table far beyond its (absent) statistics.
                for (var i = 0; i < 1_200; i++)
                {
                    await store.CreateRunAsync(Journal.RunRecord.Started($"user-{i}", "Orders", 1, "{}", DateTimeOffset.UtcNow), default);
                }

                await Wait.UntilAsync(async () => Convert.ToInt64(await database.ScalarAsync(
                    $"SELECT n_mod_since_analyze FROM pg_stat_user_tables WHERE schemaname = '{_schema}' AND relname = 'runs'"), System.Globalization.CultureInfo.InvariantCulture) >= 1_200,
                    "the inserts never reached the statistics system");
                for (var i = 0; i < 1_000; i++)
                {
                    await store.GetRunAsync("user-0", default);
                }

                Assert.Equal(0, store.Analyses);
            }

            Assert.IsType<DBNull>(await database.ScalarAsync($"SELECT last_analyze FROM pg_stat_user_tables WHERE schemaname = '{_schema}' AND relname = 'runs'"));
        }
        finally
        {
            // Its grants are in this database: dropped here, then the role from the cluster.
            await database.ScalarAsync($"DROP OWNED BY {role}");
            await database.AdminScalarAsync($"DROP ROLE {role}");
        }
    }
}
