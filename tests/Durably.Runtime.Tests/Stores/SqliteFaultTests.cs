using Durably.Runtime.Stores;
using Durably.Runtime.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Durably.Runtime.Tests.Stores;

/// <summary>
/// Real SQLite faults — a full file system, a read-only folder, a lock held by another connection — are reported as
/// what they are, with SQLite's own error, and a worker lives through them without a log storm or a lost step.
/// </summary>
public sealed class SqliteFaultTests
{
    [RootFact]
    public async Task A_full_disk_is_reported_as_full_with_SQLites_own_error_and_the_run_resumes_once_space_returns()
    {
        using var disk = FileSystems.SmallTmpfs("4m");
        using var store = SqliteWorkflowStore.Open(Path.Combine(disk.Path, "journal.db"));
        var (log, gate) = (new BodyLog(), new Gate());
        await using var host = new TestHost(store, d => d.AddWorkflow<FiveSteps>(), s => s.AddSingleton(log).AddSingleton(gate));
        await host.Get<FiveStepsClient>().StartAsync("order", "full-1");

        // Three steps journaled, the fourth in its body: then the disk fills, and the fourth's outcome cannot be written.
        var execution = host.Engine.ExecuteAsync("full-1");
        await gate.Arrived.WaitAsync(Wait.Timeout);
        disk.Fill();
        gate.Release();

        var error = await Assert.ThrowsAsync<DurableStoreException>(() => execution.WaitAsync(Wait.Timeout));
        AssertFullDisk(error);
        Assert.Contains(store.Path, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("rollback", error.Message, StringComparison.OrdinalIgnoreCase);

        // A start is refused the same way, and nothing of it is stored.
        var refused = await Assert.ThrowsAsync<DurableStoreException>(() => host.Get<FiveStepsClient>().StartAsync("order", "full-2"));
        Assert.Equal(StoreFault.Full, refused.Fault);

        disk.Free();
        var result = await host.Engine.ExecuteAsync("full-1").WaitAsync(Wait.Timeout);
        Assert.Equal(WorkflowStatus.Completed, result.Status);
        Assert.Null(await store.GetRunAsync("full-2", default));
        // The three journaled steps never ran again; the fourth, whose outcome was never written, ran again.
        Assert.All(log.Runs.GroupBy(r => r.Sequence).Where(g => g.Key != 3), g => Assert.Single(g));
    }

    [RootTheory]
    [InlineData(1)]     // a summary a second: the summaries are seen, and counted
    [InlineData(60)]    // the default: a whole outage of seconds is one line, then one for the recovery
    public async Task A_worker_on_a_full_disk_backs_off_logs_a_handful_of_lines_and_finishes_every_run_when_space_returns(int reportSeconds)
    {
        const int runs = 3;
        var reportInterval = TimeSpan.FromSeconds(reportSeconds);
        using var disk = FileSystems.SmallTmpfs("4m");
        using var store = SqliteWorkflowStore.Open(Path.Combine(disk.Path, "journal.db"));
        var (log, gate, logs) = (new BodyLog(), new Gate(), new ListLoggerFactory());
        await using var host = new TestHost(store, d => d.AddWorkflow<FiveSteps>(),
            s => s.AddSingleton(log).AddSingleton(gate).AddSingleton<ILoggerFactory>(logs).AddSingleton(typeof(ILogger<>), typeof(Logger<>)),
            options: o => (o.StoreRetryMaxDelay, o.StoreOutageReportInterval) = (TimeSpan.FromMilliseconds(400), reportInterval));
        for (var i = 0; i < runs; i++)
        {
            await host.Get<FiveStepsClient>().StartAsync($"order-{i}", $"outage-{i}");
        }

        await host.Worker.StartAsync(default);
        try
        {
            // Every run has journaled three steps and waits in the fourth's body.
            await Wait.UntilAsync(() => log.Runs.Count == runs * 4, "every run reaches its fourth step");
            // An empty WAL, then a full disk: no WAL space is left to reuse, so every write needs room that is not there.
            using (var checkpoint = new SqliteConnection($"Data Source={store.Path};Pooling=False"))
            {
                checkpoint.Open();
                using var truncate = checkpoint.CreateCommand();
                truncate.CommandText = "PRAGMA wal_checkpoint(TRUNCATE);";
                truncate.ExecuteNonQuery();
            }

            disk.Fill();
            var before = logs.Log.Records.Count;
            var outage = System.Diagnostics.Stopwatch.StartNew();
            gate.Release();
            // (A full disk still takes some small writes: the worker may see the store work now and then.)
            await Wait.UntilAsync(() => host.Worker.TotalStoreFailures >= 12, "the worker meets the full disk a dozen times");
            disk.Free();
            foreach (var i in Enumerable.Range(0, runs))
            {
                await host.Client.WaitForResultAsync<string>($"outage-{i}").WaitAsync(Wait.Timeout);
                Assert.Equal(WorkflowStatus.Completed, (await store.GetRunAsync($"outage-{i}", default))!.Status);
            }

            var seconds = outage.Elapsed.TotalSeconds;
            var during = logs.Log.Records.Skip(before).Where(r => r.Level >= LogLevel.Warning).ToList();

            // The first failure once, with its stack and SQLite's own words; then a summary per interval, no more.
            var first = Assert.Single(during, r => r.Level == LogLevel.Error);
            Assert.Contains("(Full)", first.Message, StringComparison.Ordinal);
            var cause = Assert.IsType<DurableStoreException>(first.Exception);
            AssertFullDisk(cause);
            Assert.NotNull(cause.StackTrace);
            Assert.True(during.Count <= 2 + (int)Math.Ceiling(seconds / reportInterval.TotalSeconds), $"{seconds:0.0} s of outage logged:\n{string.Join("\n", during.Select(r => $"{r.Level}: {r.Message}"))}");
            if (reportSeconds == 60)
            {
                Assert.Single(during);
            }
            Assert.All(during.Where(r => r.Level == LogLevel.Warning), r => Assert.Null(r.Exception));

            // Backoff, not a tight loop: the summaries count the failures, a few per second at most with a 400 ms cap.
            Assert.InRange(host.Worker.TotalStoreFailures, 12, (int)(seconds * runs * 4) + runs);
            if (reportSeconds == 1)
            {
                var reported = 1 + during.Where(r => r.Level == LogLevel.Warning).Sum(r => int.Parse(r.Message.Split(": ")[1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture));
                Assert.InRange(reported, 3, host.Worker.TotalStoreFailures);
            }

            // Recovery is said once.
            Assert.Single(logs.Log.Records, r => r.Message.Contains("works again", StringComparison.Ordinal));
        }
        finally
        {
            await host.Worker.StopAsync(default);
        }

        // Each journaled step ran once; only the fourth, whose outcome was never written, ran again.
        Assert.All(log.Runs.Where(r => r.Sequence != 3).GroupBy(r => r.IdempotencyKey), g => Assert.Single(g));
    }

    [Fact]
    public void Opening_a_new_database_in_a_read_only_folder_says_it_is_read_only()
    {
        using var folder = FileSystems.ReadOnlyFolder();
        var path = Path.Combine(folder.Path, "journal.db");

        var error = Assert.Throws<DurableStoreException>(() => SqliteWorkflowStore.Open(path));

        Assert.Equal(StoreFault.ReadOnly, error.Fault);
        Assert.StartsWith($"The Durably database '{path}' is read-only", error.Message, StringComparison.Ordinal);
        Assert.IsType<SqliteException>(error.InnerException);
    }

    [Fact]
    public void Opening_an_existing_database_in_a_read_only_folder_says_it_is_read_only()
    {
        using var folder = FileSystems.ReadOnlyFolder(path => SqliteWorkflowStore.Open(Path.Combine(path, "journal.db")).Dispose());
        var path = Path.Combine(folder.Path, "journal.db");

        var error = Assert.Throws<DurableStoreException>(() => SqliteWorkflowStore.Open(path));

        Assert.Equal(StoreFault.ReadOnly, error.Fault);
        Assert.StartsWith($"The Durably database '{path}' is read-only", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_write_lock_held_by_another_connection_is_reported_as_locked_not_as_unopenable()
    {
        var directory = Directory.CreateTempSubdirectory("durably-locked-").FullName;
        try
        {
            using var store = SqliteWorkflowStore.Open(Path.Combine(directory, "journal.db"));
            store.BusyTimeout = TimeSpan.FromMilliseconds(100);
            await using var host = new TestHost(store, d => d.AddWorkflow<FiveSteps>(), s => s.AddSingleton(new BodyLog()).AddSingleton(Gate.Open()));
            using var other = new SqliteConnection($"Data Source={store.Path};Pooling=False");
            other.Open();
            using (var begin = other.CreateCommand())
            {
                begin.CommandText = "BEGIN IMMEDIATE;";
                begin.ExecuteNonQuery();
            }

            var error = await Assert.ThrowsAsync<DurableStoreException>(() => host.Get<FiveStepsClient>().StartAsync("order", "locked-1"));

            Assert.Equal(StoreFault.Locked, error.Fault);
            Assert.Contains("locked", error.Message, StringComparison.Ordinal);
            Assert.Contains("in CreateRun", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("cannot be opened", error.Message, StringComparison.Ordinal);
            Assert.Equal(5, Assert.IsType<SqliteException>(error.InnerException).SqliteErrorCode);

            other.Close();
            await host.Get<FiveStepsClient>().StartAsync("order", "locked-1");
            Assert.NotNull(await store.GetRunAsync("locked-1", default));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void A_transaction_SQLite_already_ended_lets_the_first_error_out_and_leaves_the_connection_usable()
    {
        using var connection = new SqliteConnection("Data Source=:memory:");
        connection.Open();
        SqliteCommands.Execute(connection, "CREATE TABLE t (x INTEGER);");

        // As SQLite does after some errors (a full disk at COMMIT): the transaction is gone when the error reaches us.
        var error = Assert.Throws<InvalidOperationException>(() => SqliteCommands.InTransaction<int>(connection, SqliteCommands.TransactionKind.Write, () =>
        {
            SqliteCommands.Execute(connection, "INSERT INTO t VALUES (1);");
            SqliteCommands.Execute(connection, "ROLLBACK;");
            throw new InvalidOperationException("the first error");
        }));

        Assert.Equal("the first error", error.Message);
        Assert.Equal(1, SqliteCommands.InTransaction(connection, SqliteCommands.TransactionKind.Write, () => SqliteCommands.Execute(connection, "INSERT INTO t VALUES (2);")));
        Assert.Equal([2L], SqliteCommands.Query(connection, "SELECT x FROM t;", r => r.GetInt64(0)));
    }

    [Theory]
    [InlineData(nameof(DurableOptions.StoreRetryMaxDelay), 99)]
    [InlineData(nameof(DurableOptions.StoreRetryMaxDelay), -1)]
    [InlineData(nameof(DurableOptions.StoreOutageReportInterval), 0)]
    [InlineData(nameof(DurableOptions.StoreOutageReportInterval), -5)]
    public void Store_retry_settings_out_of_range_are_refused_naming_them(string setting, int milliseconds)
    {
        var options = new DurableOptions();
        typeof(DurableOptions).GetProperty(setting)!.SetValue(options, TimeSpan.FromMilliseconds(milliseconds));

        var error = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);

        Assert.Equal(setting, error.ParamName);
        Assert.Contains(setting, error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A full disk, reported as such in SQLite's own words: SQLITE_FULL ("database or disk is full"), or — when the write
    /// that met the full disk was SQLite's own (its shared-memory or WAL file growing) — SQLITE_IOERR ("disk I/O error"),
    /// which the store classifies as full when the file system has no room left.
    /// </summary>
    private static void AssertFullDisk(DurableStoreException error)
    {
        Assert.Equal(StoreFault.Full, error.Fault);
        var code = Assert.IsType<SqliteException>(error.InnerException).SqliteErrorCode;
        Assert.True(code == 13 && error.Message.Contains("database or disk is full", StringComparison.Ordinal)
            || code == 10 && error.Message.Contains("disk I/O error", StringComparison.Ordinal), $"SQLite error {code}: {error.Message}");
    }
}
