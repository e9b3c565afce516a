using System.Diagnostics;
using Durably.Runtime.Journal;
using Durably.Runtime.Stores;
using Durably.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Durably.Runtime.Tests.Stores.Postgres;

/// <summary>The database drops the worker's connections mid-run: calls are retried with backoff and every run completes.</summary>
public sealed class PostgresFaultTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    // Three times the usual wait: the server is stopped and restarted under the runs.
    private static readonly TimeSpan s_timeout = Wait.Timeout * 3;

    [Fact]
    public async Task Connections_terminated_mid_run_are_retried_with_backoff_and_the_runs_complete()
    {
        const int runs = 10;
        var logger = new ListLogger();
        var store = PostgresWorkflowStore.Open(database.ConnectionString, new PostgresStoreOptions { Schema = "faults" }, logger: logger);
        var log = new BodyLog();
        var gate = new Gate();
        var engineLog = new ListLoggerFactory();
        await using var host = new TestHost(store, d => d.AddWorkflow<FiveSteps>(), s => s.AddSingleton(log).AddSingleton(gate).AddSingleton<ILoggerFactory>(engineLog).AddSingleton(typeof(ILogger<>), typeof(Logger<>)),
            options: o => o.PollInterval = TimeSpan.FromMilliseconds(200));
        var client = host.Get<FiveStepsClient>();
        for (var i = 0; i < runs; i++)
        {
            await client.StartAsync($"order-{i}", $"fault-{i}");
        }

        await host.Worker.StartAsync(default);
        try
        {
            await gate.Arrived.WaitAsync(s_timeout);

            // For two seconds, every connection of the database but ours is terminated every 50 ms; the steps go on from
            // the middle of that window, so their first writes meet pooled connections that were just terminated.
            await using var admin = new NpgsqlConnection(database.ConnectionString);
            await admin.OpenAsync();
            var killed = 0L;
            var killing = Stopwatch.StartNew();
            while (killing.Elapsed < TimeSpan.FromSeconds(2))
            {
                if (killing.Elapsed > TimeSpan.FromSeconds(1))
                {
                    gate.Release();
                }

                await using var terminate = new NpgsqlCommand(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()", admin);
                killed += (long)(await terminate.ExecuteScalarAsync())!;
                await Task.Delay(50);
            }

            var deadline = Stopwatch.StartNew();
            for (var i = 0; i < runs; i++)
            {
                RunRecord? run;
                while ((run = await store.GetRunAsync($"fault-{i}", default))!.Status == WorkflowStatus.Running)
                {
                    if (deadline.Elapsed >= s_timeout)
                    {
                        var stuck = await store.LoadAsync($"fault-{i}", default);
                        Assert.Fail($"run fault-{i} did not complete: {stuck!.Run}\njournal:\n{string.Join("\n", stuck.Journal)}\n"
                            + $"worker log (last 40 lines):\n{string.Join("\n", engineLog.Log.Lines.TakeLast(40))}\nstore log:\n{string.Join("\n", logger.Lines.TakeLast(20))}");
                    }

                    await Task.Delay(100);
                }

                Assert.Equal(WorkflowStatus.Completed, run.Status);
                var journal = (await store.LoadAsync($"fault-{i}", default))!.Journal;
                Assert.Equal(5, journal.Count(e => e.State == JournalEntryState.Completed));
            }

            Assert.True(killed > 0);
            Assert.Contains(logger.Lines, line => line.Contains("retrying in about", StringComparison.Ordinal));

            // DESIGN §2: a body whose completion was journaled never ran again; one cut by a lost connection ran at most twice, with one key.
            Assert.All(log.Runs.GroupBy(r => r.IdempotencyKey), g => Assert.InRange(g.Count(), 1, 2));
            Assert.Equal(runs * 5, log.Runs.Select(r => r.IdempotencyKey).Distinct().Count());
        }
        finally
        {
            await host.Worker.StopAsync(default);
        }
    }

    [Fact]
    public async Task A_read_only_server_is_reported_as_read_only_with_its_own_error_and_nothing_is_stored()
    {
        // A hot standby, or a database switched to read-only: every write is refused with SQLSTATE 25006.
        using (PostgresWorkflowStore.Open(database.ConnectionString, new PostgresStoreOptions { Schema = "read_only" }))
        {
        }

        var readOnly = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Options = "-c default_transaction_read_only=on" }.ConnectionString;
        var error = await Assert.ThrowsAsync<DurableStoreException>(async () =>
        {
            using var store = PostgresWorkflowStore.Open(readOnly, new PostgresStoreOptions { Schema = "read_only" });
            await store.CreateRunAsync(RunRecord.Started("ro-1", "Orders", 1, "{}", DateTimeOffset.UtcNow), default);
        });

        Assert.Equal(StoreFault.ReadOnly, error.Fault);
        Assert.Contains("25006", error.Message, StringComparison.Ordinal);
        Assert.Equal("25006", Assert.IsType<PostgresException>(error.InnerException).SqlState);
        using var writable = PostgresWorkflowStore.Open(database.ConnectionString, new PostgresStoreOptions { Schema = "read_only" });
        Assert.Null(await writable.GetRunAsync("ro-1", default));
    }

    [Theory]
    [InlineData("53100", StoreFault.Full)]         // disk_full
    [InlineData("25006", StoreFault.ReadOnly)]     // read_only_sql_transaction
    [InlineData("55P03", StoreFault.Locked)]       // lock_not_available
    [InlineData("40P01", StoreFault.Locked)]       // deadlock_detected
    [InlineData("53300", StoreFault.Transient)]    // too_many_connections
    [InlineData("57P01", StoreFault.Transient)]    // admin_shutdown
    [InlineData("08006", StoreFault.Transient)]    // connection_failure
    [InlineData("40001", StoreFault.Transient)]    // serialization_failure
    [InlineData("22021", StoreFault.Fatal)]        // character_not_in_repertoire
    [InlineData("42P01", StoreFault.Fatal)]        // undefined_table
    public void Server_errors_are_classified_by_SQLSTATE(string sqlState, StoreFault fault)
        => Assert.Equal(fault, PostgresRetry.Classify(new PostgresException("message", "ERROR", "ERROR", sqlState)));
}
