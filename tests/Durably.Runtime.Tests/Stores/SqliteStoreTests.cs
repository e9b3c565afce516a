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
            Scalar(connection, "DROP TABLE signals; DROP INDEX runs_unloaded; DROP INDEX runs_by_owner; ALTER TABLE runs DROP COLUMN wake_at; ALTER TABLE runs DROP COLUMN generation; " +
                "ALTER TABLE runs DROP COLUMN cancel_reason; DROP INDEX runs_by_created; DROP INDEX runs_by_workflow; ALTER TABLE journal DROP COLUMN retry_at; " +
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
}
