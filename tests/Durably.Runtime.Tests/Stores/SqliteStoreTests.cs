using System.Diagnostics;
using Durably.Runtime.Journal;
using Durably.Runtime.Replay;
using Durably.Runtime.Stores.Sqlite;
using Durably.Runtime.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

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
        Assert.Equal("1", Scalar(connection, "SELECT value FROM durably_meta WHERE key = 'schema_version';"));
        Assert.Equal("durably", Scalar(connection, "SELECT value FROM durably_meta WHERE key = 'application';"));
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
            Scalar(connection, "UPDATE durably_meta SET value = '9' WHERE key = 'schema_version';");
        }

        var error = Assert.Throws<DurableStoreException>(() => SqliteWorkflowStore.Open(path));

        Assert.Contains("schema version 9, newer than this Durably (1)", error.Message, StringComparison.Ordinal);
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

    [Fact]
    public async Task Two_stores_on_one_file_never_hold_the_same_run_and_a_stale_owner_is_fenced()
    {
        var path = DatabasePath();
        var clock = new ManualTimeProvider(DateTimeOffset.Parse("2026-11-21T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        using var processA = SqliteWorkflowStore.Open(path, clock);
        using var processB = SqliteWorkflowStore.Open(path, clock);
        var now = clock.GetUtcNow();
        await processA.CreateRunAsync(new RunRecord("run-1", "Orders", 1, "{}", WorkflowStatus.Running, null, null, null, 0, null, now, now), default);

        var leaseA = await processA.TryClaimAsync("run-1", "worker-a", TimeSpan.FromSeconds(30), default);
        Assert.NotNull(leaseA);
        Assert.Null(await processB.TryClaimAsync("run-1", "worker-b", TimeSpan.FromSeconds(30), default));

        clock.Advance(TimeSpan.FromSeconds(31));
        var leaseB = await processB.TryClaimAsync("run-1", "worker-b", TimeSpan.FromSeconds(30), default);
        Assert.NotNull(leaseB);
        Assert.Equal(leaseA.Epoch + 1, leaseB.Epoch);

        var entry = new JournalEntry("run-1", 0, "Charge", OperationKind.Step, JournalEntryState.Attempting, "{}", null, null, 1, null, now, null);
        Assert.True((await processA.RecordAttemptAsync(leaseA, entry, default)).Fenced);
        Assert.True((await processA.CompleteEntryAsync(leaseA, entry with { State = JournalEntryState.Completed, OutputJson = "1", CompletionIndex = 0, CompletedAt = now }, default)).Fenced);
        Assert.False(await processA.CompleteRunAsync(leaseA, new RunOutcome(WorkflowStatus.Completed, "1", null), default));

        Assert.False((await processB.RecordAttemptAsync(leaseB, entry, default)).Fenced);
        var done = await processB.CompleteEntryAsync(leaseB, entry with { State = JournalEntryState.Completed, OutputJson = "2", CompletionIndex = 0, CompletedAt = now }, default);
        var again = await processB.CompleteEntryAsync(leaseB, entry with { State = JournalEntryState.Failed, Error = new WorkflowError("X", "late"), CompletionIndex = 1, CompletedAt = now }, default);
        Assert.Equal("2", done.Entry!.OutputJson);
        Assert.Equal(JournalEntryState.Completed, again.Entry!.State);
        Assert.Equal("2", again.Entry.OutputJson);
        var snapshot = await processA.LoadAsync("run-1", default);
        Assert.Equal("worker-b", snapshot!.Run.Owner);
        Assert.Single(snapshot.Journal);
    }

    [Fact]
    public async Task The_engine_resumes_a_stopped_run_from_a_SQLite_file_with_a_new_store_instance()
    {
        var path = DatabasePath();
        var firstLog = new BodyLog();
        var closed = new Gate();
        using (var store = SqliteWorkflowStore.Open(path))
        {
            await using var first = new TestHost(store, d => d.AddWorkflow<FiveSteps>(), s => s.AddSingleton(firstLog).AddSingleton(closed));
            await first.Get<FiveStepsClient>().StartAsync("order-9", "sqlite-1");
            using var stop = new CancellationTokenSource();
            var execution = first.Engine.ExecuteAsync("sqlite-1", stop.Token);
            await closed.Arrived.WaitAsync(TimeSpan.FromSeconds(30));
            await stop.CancelAsync();
            Assert.Equal(ExecutionOutcome.Abandoned, (await execution.WaitAsync(TimeSpan.FromSeconds(30))).Outcome);
        }

        var secondLog = new BodyLog();
        using var reopened = SqliteWorkflowStore.Open(path);
        await using var second = new TestHost(reopened, d => d.AddWorkflow<FiveSteps>(), s => s.AddSingleton(secondLog).AddSingleton(Gate.Open()), workerName: "restarted");
        var result = await second.Engine.ExecuteAsync("sqlite-1").WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(WorkflowStatus.Completed, result.Status);
        Assert.DoesNotContain(secondLog.Runs, r => r.Sequence < 3);
        Assert.Equal(2, firstLog.Runs.Concat(secondLog.Runs).Count(r => r.Sequence == 3));
        var journal = (await reopened.LoadAsync("sqlite-1", default))!.Journal;
        Assert.Equal(5, journal.Count);
        Assert.All(journal, e => Assert.Equal(JournalEntryState.Completed, e.State));
        Assert.Equal(5, (await second.Client.GetResultAsync<string>("sqlite-1")).Split('|').Length);
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
