using System.Diagnostics;
using Durably.Runtime.Stores;
using Microsoft.Data.Sqlite;

namespace Durably.Runtime.Tests.Stores;

public sealed class SqliteStoreTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durably-sqlite-" + Guid.NewGuid().ToString("N"));

    public SqliteStoreTests() => Directory.CreateDirectory(_directory);

    private string DatabasePath(string name = "journal.db") => Path.Combine(_directory, name);

    [Fact]
    public void Opening_creates_a_versioned_schema_in_WAL_mode_and_reopens_it()
    {
        var path = DatabasePath("nested/folder/journal.db");
        using (SqliteWorkflowStore.Open(path))
        {
        }

        using (var store = SqliteWorkflowStore.Open(path))
        {
            Assert.Equal(path, store.Path);
        }

        using var connection = new SqliteConnection($"Data Source={path}");
        connection.Open();
        Assert.Equal("wal", Scalar(connection, "PRAGMA journal_mode;"));
        Assert.Equal(SqliteWorkflowStore.SchemaVersion.ToString(System.Globalization.CultureInfo.InvariantCulture), Scalar(connection, "SELECT value FROM durably_meta WHERE key = 'schema_version';"));
        Assert.Equal("durably", Scalar(connection, "SELECT value FROM durably_meta WHERE key = 'application';"));
    }

    [Fact]
    public void A_version_1_database_is_migrated_to_the_current_schema_keeping_its_runs()
    {
        var path = DatabasePath();
        using (SqliteWorkflowStore.Open(path))
        {
        }

        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            // Back to version 1: no signals table (v2), no wake time or generation columns (v3), no cancel reason (v4).
            Scalar(connection, "DROP TABLE run_status; DROP TABLE run_children; DROP TABLE operator_actions; DROP INDEX runs_by_instance_key; DROP INDEX runs_by_workflow_version; DROP TABLE signals; DROP INDEX runs_unloaded; DROP INDEX runs_by_owner; ALTER TABLE runs DROP COLUMN wake_at; ALTER TABLE runs DROP COLUMN generation; " +
                "ALTER TABLE runs DROP COLUMN cancel_reason; DROP INDEX runs_by_created; DROP INDEX runs_by_workflow; DROP INDEX runs_by_status_workflow; DROP INDEX runs_finished; DROP INDEX runs_by_status_created; ALTER TABLE journal DROP COLUMN retry_at; " +
                "ALTER TABLE runs DROP COLUMN failed_sequence; DROP INDEX runs_by_instance; ALTER TABLE runs DROP COLUMN instance_key; DROP TABLE workers; ALTER TABLE runs DROP COLUMN fingerprint; ALTER TABLE runs DROP COLUMN seed; " +
                "UPDATE durably_meta SET value = '1' WHERE key = 'schema_version'; " +
                "INSERT INTO runs VALUES ('kept', 'Orders', 1, '{}', 0, NULL, NULL, NULL, NULL, 0, NULL, 0, 0);");
        }

        using (SqliteWorkflowStore.Open(path))
        {
        }

        using var reopened = new SqliteConnection($"Data Source={path};Pooling=False");
        reopened.Open();
        Assert.Equal(SqliteWorkflowStore.SchemaVersion.ToString(System.Globalization.CultureInfo.InvariantCulture), Scalar(reopened, "SELECT value FROM durably_meta WHERE key = 'schema_version';"));
        Assert.Equal("0", Scalar(reopened, "SELECT count(*) FROM signals;"));
        Assert.Equal("1", Scalar(reopened, "SELECT count(*) FROM runs WHERE wake_at IS NULL AND generation = 0;"));
        Assert.Equal("kept", Scalar(reopened, "SELECT workflow_id FROM runs;"));
    }

    [Fact]
    public void A_SQLite_file_of_another_application_is_refused_naming_the_path()
    {
        var path = DatabasePath("other.db");
        using (var connection = new SqliteConnection($"Data Source={path}"))
        {
            connection.Open();
            Scalar(connection, "CREATE TABLE customers (id INTEGER PRIMARY KEY);");
        }

        var error = Assert.Throws<DurableStoreException>(() => SqliteWorkflowStore.Open(path));

        Assert.Contains($"'{path}' is a SQLite database but not a Durably database", error.Message, StringComparison.Ordinal);
        Assert.Contains("customers", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_that_is_not_SQLite_is_refused_naming_the_path()
    {
        var path = DatabasePath("notes.txt");
        File.WriteAllText(path, new string('x', 4096));

        var error = Assert.Throws<DurableStoreException>(() => SqliteWorkflowStore.Open(path));

        Assert.Contains($"'{path}' is not a SQLite database", error.Message, StringComparison.Ordinal);
        Assert.Equal(new string('x', 4096), File.ReadAllText(path));
    }

    [Fact]
    public void A_database_from_a_newer_Durably_is_refused_with_both_versions()
    {
        var path = DatabasePath();
        using (SqliteWorkflowStore.Open(path))
        {
        }

        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            Scalar(connection, $"UPDATE durably_meta SET value = '{SqliteWorkflowStore.SchemaVersion + 1}' WHERE key = 'schema_version';");
        }

        var error = Assert.Throws<DurableStoreException>(() => SqliteWorkflowStore.Open(path));

        Assert.Contains($"schema version {SqliteWorkflowStore.SchemaVersion + 1}, newer than this Durably ({SqliteWorkflowStore.SchemaVersion})", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_read_only_database_is_refused_at_start_up_naming_the_path()
    {
        var path = DatabasePath();
        using (SqliteWorkflowStore.Open(path))
        {
        }

        SqliteConnection.ClearAllPools();
        MakeReadOnly(path, readOnly: true);
        try
        {
            var error = Assert.Throws<DurableStoreException>(() => SqliteWorkflowStore.Open(path));
            Assert.Contains($"'{path}' is read-only", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            MakeReadOnly(path, readOnly: false);
        }
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private static string? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar()?.ToString();
    }

    /// <summary>Root ignores permission bits, so as root the file is made immutable instead.</summary>
    private static void MakeReadOnly(string path, bool readOnly)
    {
        if (Environment.IsPrivilegedProcess)
        {
            using var chattr = Process.Start("chattr", [readOnly ? "+i" : "-i", path])!;
            chattr.WaitForExit();
            Assert.Equal(0, chattr.ExitCode);
        }
        else if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, readOnly ? UnixFileMode.UserRead : UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        else
        {
            File.SetAttributes(path, readOnly ? FileAttributes.ReadOnly : FileAttributes.Normal);
        }
    }

    [Fact]
    public async Task Concurrent_writes_of_many_runs_share_commits_and_a_failing_write_is_undone_alone()
    {
        const int runs = 64;
        using var store = SqliteWorkflowStore.Open(DatabasePath());
        var now = DateTimeOffset.UtcNow;
        var leases = new List<Durably.Runtime.Journal.RunLease>();
        for (var i = 0; i < runs; i++)
        {
            await store.CreateRunAsync(Durably.Runtime.Journal.RunRecord.Started($"run-{i}", "Orders", 1, "{}", now), default);
            leases.Add((await store.TryClaimAsync($"run-{i}", "w", TimeSpan.FromMinutes(1), default))!);
        }

        // The continuation of run-0 would take an id that is taken: that write throws inside its transaction.
        await store.CreateRunAsync(Durably.Runtime.Journal.RunRecord.Started("run-0~1", "Orders", 1, "{}", now), default);
        var before = store.WriteTransactions;

        // 64 threads released at once, as 64 runs in flight would write.
        using var start = new Barrier(runs);
        var writes = new Task<bool>[runs];
        var threads = leases.Select((lease, i) => new Thread(() =>
        {
            start.SignalAndWait();
            var entry = Durably.Runtime.Journal.JournalEntry.Attempting(lease.WorkflowId, 0, "Charge", Durably.Runtime.Journal.OperationKind.Step, "{}", now) with { Attempts = 1 };
            writes[i] = store.RecordAttemptAsync(lease, entry, Durably.Runtime.Journal.JournalDurability.Durable, default).ContinueWith(_ => lease.WorkflowId == "run-0"
                ? store.CompleteRunAsync(lease, new Durably.Runtime.Journal.RunOutcome(WorkflowStatus.ContinuedAsNew, null, null,
                    Durably.Runtime.Journal.RunRecord.Started("run-0~1", "Orders", 1, "{}", now, generation: 1)), default)
                : store.CompleteRunAsync(lease, new Durably.Runtime.Journal.RunOutcome(WorkflowStatus.Completed, "1", null), default), TaskScheduler.Default).Unwrap();
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        var failed = await Assert.ThrowsAsync<DurableStoreException>(() => writes[0]);
        Assert.Contains("id 'run-0~1' is already taken", failed.Message, StringComparison.Ordinal);
        Assert.All(writes.Skip(1), w => Assert.True(w.GetAwaiter().GetResult()));

        // Every other run ended and journaled its row; run-0 kept its row and is still running.
        for (var i = 0; i < runs; i++)
        {
            var snapshot = (await store.LoadAsync($"run-{i}", default))!;
            Assert.Single(snapshot.Journal);
            Assert.Equal(i == 0 ? WorkflowStatus.Running : WorkflowStatus.Completed, snapshot.Run.Status);
        }

        // 64 attempting rows written at once: those that arrived while another was being written went with it.
        Assert.InRange(store.WriteTransactions - before, 2, 2 * runs - 2);
    }
}
