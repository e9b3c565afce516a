using System.Data.Common;
using System.Runtime.CompilerServices;
using Durably.Runtime.Journal;
using Microsoft.Data.Sqlite;
using static Durably.Runtime.Stores.SqliteCommands;
using static Durably.Runtime.Stores.SqliteSchema;

namespace Durably.Runtime.Stores;

/// <summary>
/// The embedded default store: one SQLite file, WAL with <c>synchronous=FULL</c>, one writer at a time. Runs carry
/// owner, lease and epoch, so two processes on one file never run the same run: every write that changes a run or its
/// journal checks the writer's lease inside the same <c>BEGIN IMMEDIATE</c> transaction.
/// </summary>
public sealed partial class SqliteWorkflowStore : IWorkflowStore, IDisposable
{
    /// <summary>The schema version this code creates and reads.</summary>
    public const int SchemaVersion = SqliteSchema.Version;

    private readonly string _connectionString;
    private readonly TimeProvider _time;

    private SqliteWorkflowStore(string path, TimeProvider time)
    {
        Path = path;
        _time = time;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
        }.ToString();
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    /// <summary>
    /// Opens (creating if needed) the Durably database at <paramref name="path"/>: creates or checks its schema and
    /// switches it to WAL.
    /// </summary>
    /// <param name="path">The file; a relative path is resolved against the current directory.</param>
    /// <param name="timeProvider">The clock that judges leases; <see cref="TimeProvider.System"/> when null.</param>
    /// <returns>The store.</returns>
    /// <exception cref="DurableStoreException">The file is not a Durably database, is newer than this code, or cannot be written.</exception>
    public static SqliteWorkflowStore Open(string path, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        SQLitePCL.Batteries_V2.Init();
        var fullPath = System.IO.Path.GetFullPath(path);
        var store = new SqliteWorkflowStore(fullPath, timeProvider ?? TimeProvider.System);
        var directory = System.IO.Path.GetDirectoryName(fullPath) ?? fullPath;
        try
        {
            Directory.CreateDirectory(directory);
            store.Initialize();
            return store;
        }
        catch (SqliteException ex)
        {
            store.Dispose();
            // "Unable to open database file" is all SQLite says when a read-only folder or file system stops it.
            var fault = SqliteErrors.Classify(ex);
            if (fault is StoreFault.Transient or StoreFault.ReadOnly && SqliteErrors.WhyNotWritable(directory) is { } readOnly)
            {
                throw new DurableStoreException(
                    $"The Durably database '{fullPath}' is read-only: {readOnly} (SQLite error {ex.SqliteErrorCode}: {ex.Message}). "
                    + "Durably must write its journal: give the process write access to the file and its folder, on a writable file system.",
                    StoreFault.ReadOnly, ex);
            }

            throw SqliteErrors.Wrap(fullPath, "opening it", ex, fault, store.BusyTimeout);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            store.Dispose();
            var fault = SqliteErrors.WhyNotWritable(directory) is null ? StoreFault.Fatal : StoreFault.ReadOnly;
            throw new DurableStoreException($"The Durably database '{fullPath}' cannot be created or opened: {ex.Message}", fault, ex);
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    private void Initialize()
    {
        using var connection = OpenConnection();
        SqliteSchema.Initialize(connection, Path);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        SqliteConnection.ClearPool(new SqliteConnection(_connectionString));
    }

    // ---- plumbing ----

    private const string HeldBy = "workflow_id = $id AND status = 0 AND owner = $owner AND epoch = $epoch";

    private static bool IsHeld(SqliteConnection connection, RunLease lease)
        => Held(connection, lease) is not null;

    /// <summary>Null when <paramref name="lease"/> is not current on an active run; otherwise whether a cancel was requested.</summary>
    private static bool? Held(SqliteConnection connection, RunLease lease)
        => Query(connection, $"SELECT cancel_reason IS NOT NULL FROM runs WHERE {HeldBy};", r => r.GetBoolean(0), LeaseParameters(lease)) is [var cancel] ? cancel : null;

    private static (string, object?)[] LeaseParameters(RunLease lease)
        => [("$id", lease.WorkflowId), ("$owner", lease.Owner), ("$epoch", lease.Epoch)];

    /// <summary>How long a statement waits for another connection's write lock before it fails as <see cref="StoreFault.Locked"/>.</summary>
    internal TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(30);

    private SqliteConnection OpenConnection()
    {
        // Microsoft.Data.Sqlite retries a busy statement for the command timeout on top of SQLite's own busy_timeout.
        var connection = new SqliteConnection(_connectionString) { DefaultTimeout = (int)Math.Ceiling(BusyTimeout.TotalSeconds) };
        connection.Open();
        using var pragmas = connection.CreateCommand();
        // Per connection: a committed journal row survives power loss, and concurrent writers wait rather than fail.
        pragmas.CommandText = $"PRAGMA synchronous = FULL; PRAGMA busy_timeout = {(long)BusyTimeout.TotalMilliseconds}; PRAGMA foreign_keys = ON;";
        pragmas.ExecuteNonQuery();
        return connection;
    }

    /// <summary>Runs <paramref name="read"/> on a connection of its own; a SQLite error comes out as a <see cref="DurableStoreException"/>.</summary>
    private Task<T> Read<T>(Func<SqliteConnection, T> read, CancellationToken cancellationToken, [CallerMemberName] string operation = "")
    {
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            using var connection = OpenConnection();
            return Task.FromResult(read(connection));
        }
        catch (SqliteException ex)
        {
            throw SqliteErrors.Wrap(Path, Describe(operation), ex, BusyTimeout);
        }
    }

    /// <summary>
    /// Runs <paramref name="write"/> in a <c>BEGIN IMMEDIATE</c> transaction, one writer of this process at a time; a
    /// SQLite error comes out as a <see cref="DurableStoreException"/> naming it.
    /// </summary>
    private Task<T> WriteAsync<T>(Func<SqliteConnection, T> write, CancellationToken cancellationToken, [CallerMemberName] string operation = "")
        => WriteAsync(JournalDurability.Durable, write, cancellationToken, operation);

    /// <summary>
    /// As <see cref="WriteAsync{T}(Func{SqliteConnection, T}, CancellationToken, string)"/>, committed as durably as
    /// <paramref name="durability"/> asks — alone, or with the writes that arrived meanwhile (group commit).
    /// </summary>
    private Task<T> WriteAsync<T>(JournalDurability durability, Func<SqliteConnection, T> write, CancellationToken cancellationToken, [CallerMemberName] string operation = "")
        => EnqueueWrite(durability, write, operation, cancellationToken);

    /// <summary>"TryClaimAsync" → "in TryClaim": which store call failed, for the message.</summary>
    private static string Describe(string operation) => "in " + (operation.EndsWith("Async", StringComparison.Ordinal) ? operation[..^5] : operation);

    /// <summary>The active run of <paramref name="workflowName"/> that holds <paramref name="instanceKey"/>.</summary>
    private static RunRecord? HolderOf(SqliteConnection connection, string workflowName, string? instanceKey, string? except = null)
        => instanceKey is null ? null
            : Query(connection, $"SELECT {RunColumns} FROM runs WHERE workflow_name = $name AND instance_key = $key AND status = 0 AND workflow_id IS NOT $except;",
                r => StoredRows.ReadRun(r, ReadTime), ("$name", workflowName), ("$key", instanceKey), ("$except", except)).SingleOrDefault();

    private static RunRecord? ReadRun(SqliteConnection connection, string workflowId)
        => Query(connection, $"SELECT {RunColumns} FROM runs WHERE workflow_id = $id;", r => StoredRows.ReadRun(r, ReadTime), ("$id", workflowId)).SingleOrDefault();

    private static JournalEntry ReadEntry(SqliteConnection connection, string workflowId, long sequence)
        => TryReadEntry(connection, workflowId, sequence)!;

    private static JournalEntry? TryReadEntry(SqliteConnection connection, string workflowId, long sequence)
        => Query(connection, $"SELECT {JournalColumns} FROM journal WHERE workflow_id = $id AND sequence = $sequence;", ReadEntry,
            ("$id", workflowId), ("$sequence", sequence)).SingleOrDefault();

    private static JournalEntry ReadEntry(DbDataReader r) => StoredRows.ReadEntry(r, ReadTime);

    private static DateTimeOffset ReadTime(DbDataReader r, int column) => FromUnixMs(r.GetInt64(column));

    private static (string, object?)[] RunParameters(RunRecord run) =>
    [
        ("$id", run.WorkflowId), ("$name", run.WorkflowName), ("$version", run.Version), ("$input", run.InputJson), ("$status", (int)run.Status),
        ("$output", run.OutputJson), ("$error_type", run.Error?.Type), ("$error_message", run.Error?.Message), ("$owner", run.Owner),
        ("$epoch", run.Epoch), ("$lease", run.LeaseExpiresAt is { } lease ? ToUnixMs(lease) : null), ("$created", ToUnixMs(run.CreatedAt)),
        ("$updated", ToUnixMs(run.UpdatedAt)), ("$wake", run.WakeAt is { } wake ? ToUnixMs(wake) : null), ("$generation", run.Generation),
        ("$cancel_reason", run.CancelReason), ("$failed_sequence", run.FailedSequence), ("$instance_key", run.InstanceKey),
        ("$fingerprint", run.Fingerprint), ("$seed", run.Seed),
    ];

    private static (string, object?)[] EntryParameters(JournalEntry entry) =>
    [
        ("$id", entry.WorkflowId), ("$sequence", entry.Sequence), ("$operation", entry.OperationId), ("$kind", (int)entry.Kind),
        ("$state", (int)entry.State), ("$input", entry.InputJson), ("$output", entry.OutputJson), ("$error_type", entry.Error?.Type),
        ("$error_message", entry.Error?.Message), ("$attempts", entry.Attempts), ("$completion_index", entry.CompletionIndex),
        ("$started", ToUnixMs(entry.StartedAt)), ("$completed", entry.CompletedAt is { } completed ? ToUnixMs(completed) : null),
    ];

    private static long ToUnixMs(DateTimeOffset time) => time.ToUnixTimeMilliseconds();

    private static DateTimeOffset FromUnixMs(long milliseconds) => DateTimeOffset.FromUnixTimeMilliseconds(milliseconds);
}
