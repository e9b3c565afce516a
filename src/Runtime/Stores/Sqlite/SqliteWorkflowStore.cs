using System.Data.Common;
using Durably.Runtime.Journal;
using Microsoft.Data.Sqlite;

namespace Durably.Runtime.Stores.Sqlite;

/// <summary>
/// The embedded default store: one SQLite file, WAL with <c>synchronous=FULL</c>, one writer at a time. Runs carry
/// owner, lease and epoch, so two processes on one file never run the same run: every write that changes a run or its
/// journal checks the writer's lease inside the same <c>BEGIN IMMEDIATE</c> transaction.
/// </summary>
public sealed class SqliteWorkflowStore : IWorkflowStore, IDisposable
{
    /// <summary>The schema version this code creates and reads.</summary>
    public const int SchemaVersion = 8;

    private const string ApplicationId = "durably";
    private readonly string _connectionString;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _writer = new(1, 1);

    private SqliteWorkflowStore(string path, TimeProvider time)
    {
        Path = path;
        _time = time;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
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
        try
        {
            var directory = System.IO.Path.GetDirectoryName(fullPath);
            if (!string.IsNullOrEmpty(directory))
            {
                Directory.CreateDirectory(directory);
            }

            store.Initialize();
            return store;
        }
        catch (SqliteException ex)
        {
            store.Dispose();
            throw new DurableStoreException(Describe(fullPath, ex), ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            store.Dispose();
            throw new DurableStoreException($"The Durably database '{fullPath}' cannot be created or opened: {ex.Message}", ex);
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    private static string Describe(string path, SqliteException ex) => ex.SqliteErrorCode switch
    {
        8 => $"The Durably database '{path}' is read-only (SQLite: {ex.Message}). Durably must write its journal: give the process write access to the file and its folder.",
        26 => $"The file '{path}' is not a SQLite database, so it cannot be a Durably database (SQLite: {ex.Message}). Point Durably at another path.",
        _ => $"The Durably database '{path}' cannot be opened (SQLite error {ex.SqliteErrorCode}: {ex.Message}).",
    };

    private void Initialize()
    {
        using var connection = OpenConnection();
        using (var wal = connection.CreateCommand())
        {
            wal.CommandText = "PRAGMA journal_mode=WAL;";
            var mode = wal.ExecuteScalar() as string;
            if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
            {
                throw new DurableStoreException($"The Durably database '{Path}' could not be switched to WAL (journal_mode is '{mode}').");
            }
        }

        using var transaction = connection.BeginTransaction(deferred: false);
        var tables = Query(connection, transaction, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%';", r => r.GetString(0));
        var version = 0;
        if (tables.Count == 0)
        {
            Execute(connection, transaction, "CREATE TABLE durably_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);");
            Execute(connection, transaction, "INSERT INTO durably_meta (key, value) VALUES ('application', $app), ('schema_version', '0');", ("$app", ApplicationId));
        }
        else if (!tables.Contains("durably_meta"))
        {
            throw new DurableStoreException(
                $"The file '{Path}' is a SQLite database but not a Durably database (it has tables {string.Join(", ", tables.Order().Take(5))} and no durably_meta). Point Durably at another path.");
        }
        else
        {
            var meta = Query(connection, transaction, "SELECT key, value FROM durably_meta;", r => (Key: r.GetString(0), Value: r.GetString(1))).ToDictionary(m => m.Key, m => m.Value);
            if (meta.GetValueOrDefault("application") != ApplicationId || !int.TryParse(meta.GetValueOrDefault("schema_version"), out version))
            {
                throw new DurableStoreException($"The file '{Path}' has a durably_meta table that Durably did not write. Point Durably at another path.");
            }

            if (version > SchemaVersion)
            {
                throw new DurableStoreException(
                    $"The Durably database '{Path}' has schema version {version}, newer than this Durably ({SchemaVersion}). Run a newer Durably, or another file.");
            }

        }

        for (var from = version; from < SchemaVersion; from++)
        {
            Execute(connection, transaction, s_migrations[from]);
        }

        // Also the write probe: a read-only file opens and reads fine; find out now, at start-up, not at the first write.
        Execute(connection, transaction, "UPDATE durably_meta SET value = $version WHERE key = 'schema_version';",
            ("$version", Math.Max(version, SchemaVersion).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        transaction.Commit();
    }

    /// <summary>Migration <c>i</c> takes the schema from version <c>i</c> to <c>i + 1</c>, in the start-up transaction.</summary>
    private static readonly string[] s_migrations =
    [
        """
        CREATE TABLE runs (
            workflow_id      TEXT PRIMARY KEY,
            workflow_name    TEXT NOT NULL,
            version          INTEGER NOT NULL,
            input_json       TEXT NOT NULL,
            status           INTEGER NOT NULL,
            output_json      TEXT,
            error_type       TEXT,
            error_message    TEXT,
            owner            TEXT,
            epoch            INTEGER NOT NULL,
            lease_expires_at INTEGER,
            created_at       INTEGER NOT NULL,
            updated_at       INTEGER NOT NULL
        );
        CREATE INDEX runs_by_status ON runs (status, lease_expires_at);
        CREATE TABLE journal (
            workflow_id      TEXT NOT NULL REFERENCES runs (workflow_id),
            sequence         INTEGER NOT NULL,
            operation_id     TEXT NOT NULL,
            kind             INTEGER NOT NULL,
            state            INTEGER NOT NULL,
            input_json       TEXT,
            output_json      TEXT,
            error_type       TEXT,
            error_message    TEXT,
            attempts         INTEGER NOT NULL,
            completion_index INTEGER,
            started_at       INTEGER NOT NULL,
            completed_at     INTEGER,
            PRIMARY KEY (workflow_id, sequence)
        ) WITHOUT ROWID;
        """,
        """
        CREATE TABLE signals (
            position          INTEGER PRIMARY KEY,
            workflow_id       TEXT NOT NULL REFERENCES runs (workflow_id),
            signal_id         TEXT NOT NULL,
            name              TEXT NOT NULL,
            payload_json      TEXT NOT NULL,
            sent_at           INTEGER NOT NULL,
            taken_by_sequence INTEGER,
            UNIQUE (workflow_id, signal_id)
        );
        CREATE INDEX signals_untaken ON signals (workflow_id, name, position) WHERE taken_by_sequence IS NULL;
        """,
        """
        ALTER TABLE runs ADD COLUMN wake_at INTEGER;
        ALTER TABLE runs ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX runs_unloaded ON runs (wake_at) WHERE status = 0 AND wake_at IS NOT NULL;
        """,
        """
        ALTER TABLE runs ADD COLUMN cancel_reason TEXT;
        """,
        """
        CREATE INDEX runs_by_created ON runs (created_at, workflow_id);
        CREATE INDEX runs_by_workflow ON runs (workflow_name, created_at, workflow_id);
        """,
        """
        ALTER TABLE journal ADD COLUMN retry_at INTEGER;
        """,
        """
        ALTER TABLE runs ADD COLUMN failed_sequence INTEGER;
        """,
        """
        ALTER TABLE runs ADD COLUMN instance_key TEXT;
        CREATE UNIQUE INDEX runs_by_instance ON runs (workflow_name, instance_key) WHERE status = 0 AND instance_key IS NOT NULL;
        """,
    ];

    private const string RunColumns = "workflow_id, workflow_name, version, input_json, status, output_json, error_type, error_message, owner, epoch, lease_expires_at, created_at, updated_at, wake_at, generation, cancel_reason, failed_sequence, instance_key";

    private const string JournalColumns = "workflow_id, sequence, operation_id, kind, state, input_json, output_json, error_type, error_message, attempts, completion_index, started_at, completed_at, retry_at";

    /// <inheritdoc/>
    public Task<(RunRecord Run, bool Created)> CreateRunAsync(RunRecord run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        return WriteAsync((connection, transaction) =>
        {
            // One writer at a time: the key's holder read here is still the holder at the insert.
            if (ReadRun(connection, transaction, run.WorkflowId) is null && HolderOf(connection, transaction, run.WorkflowName, run.InstanceKey) is { } holder)
            {
                return (holder, false);
            }

            var inserted = Execute(connection, transaction,
                $"INSERT INTO runs ({RunColumns}) VALUES ($id, $name, $version, $input, $status, $output, $error_type, $error_message, $owner, $epoch, $lease, $created, $updated, $wake, $generation, $cancel_reason, $failed_sequence, $instance_key) ON CONFLICT (workflow_id) DO NOTHING;",
                RunParameters(run));
            var stored = ReadRun(connection, transaction, run.WorkflowId)!;
            return (stored, inserted == 1);
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<RunRecord?> GetRunAsync(string workflowId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var connection = OpenConnection();
        return Task.FromResult(ReadRun(connection, null, workflowId));
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<RunRecord>> ListRunsAsync(RunListQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        cancellationToken.ThrowIfCancellationRequested();
        // Only the conditions asked for, each value bound: the indexes on (created_at, workflow_id) serve every page.
        var conditions = new List<string>();
        var parameters = new List<(string, object?)> { ("$limit", query.Limit) };
        if (query.WorkflowName is { } name)
        {
            conditions.Add("workflow_name = $name");
            parameters.Add(("$name", name));
        }

        if (query.Status is { } status)
        {
            conditions.Add("status = $status");
            parameters.Add(("$status", (int)status));
        }

        if (query.CreatedFrom is { } from)
        {
            conditions.Add("created_at >= $from");
            parameters.Add(("$from", ToUnixMs(from)));
        }

        if (query.CreatedBefore is { } before)
        {
            conditions.Add("created_at < $before");
            parameters.Add(("$before", ToUnixMs(before)));
        }

        if (query.After is { } after)
        {
            conditions.Add("(created_at, workflow_id) < ($after_created, $after_id)");
            parameters.Add(("$after_created", ToUnixMs(after.CreatedAt)));
            parameters.Add(("$after_id", after.WorkflowId));
        }

        var where = conditions.Count == 0 ? "" : " WHERE " + string.Join(" AND ", conditions);
        using var connection = OpenConnection();
        IReadOnlyList<RunRecord> page = Query(connection, null,
            $"SELECT {RunColumns} FROM runs{where} ORDER BY created_at DESC, workflow_id DESC LIMIT $limit;",
            r => StoredRows.ReadRun(r, ReadTime), [.. parameters]);
        return Task.FromResult(page);
    }

    /// <inheritdoc/>
    public Task<RunSnapshot?> LoadAsync(string workflowId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var connection = OpenConnection();
        using var transaction = connection.BeginTransaction(deferred: true);
        var run = ReadRun(connection, transaction, workflowId);
        if (run is null)
        {
            return Task.FromResult<RunSnapshot?>(null);
        }

        var journal = Query(connection, transaction, $"SELECT {JournalColumns} FROM journal WHERE workflow_id = $id ORDER BY sequence;", ReadEntry, ("$id", workflowId));
        return Task.FromResult<RunSnapshot?>(new RunSnapshot(run, journal));
    }

    /// <inheritdoc/>
    public Task<RunLease?> TryClaimAsync(string workflowId, string owner, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        return WriteAsync<RunLease?>((connection, transaction) =>
        {
            var now = _time.GetUtcNow();
            // The holder before the claim, read in the same write transaction: a claimed run it still held is recovered.
            var previous = Query(connection, transaction, "SELECT owner FROM runs WHERE workflow_id = $id;", r => r.IsDBNull(0) ? null : r.GetString(0), ("$id", workflowId));
            var epoch = Query(connection, transaction, """
                UPDATE runs SET owner = $owner, epoch = epoch + 1, lease_expires_at = $expires, updated_at = $now, wake_at = NULL
                WHERE workflow_id = $id AND status = 0 AND (owner IS NULL OR owner = $owner OR lease_expires_at <= $now)
                RETURNING epoch;
                """, r => r.GetInt64(0),
                ("$id", workflowId), ("$owner", owner), ("$expires", ToUnixMs(now + leaseDuration)), ("$now", ToUnixMs(now)));
            return epoch.Count == 1 ? new RunLease(workflowId, owner, epoch[0], previous[0]) : null;
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<string>> ListClaimableAsync(string owner, int limit, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var connection = OpenConnection();
        IReadOnlyList<string> ids = Query(connection, null, """
            SELECT workflow_id FROM runs
            WHERE status = 0 AND ((owner IS NULL AND (wake_at IS NULL OR wake_at <= $now)) OR owner = $owner OR lease_expires_at <= $now)
            ORDER BY created_at, workflow_id
            LIMIT $limit;
            """, r => r.GetString(0), ("$owner", owner), ("$now", ToUnixMs(_time.GetUtcNow())), ("$limit", limit));
        return Task.FromResult(ids);
    }

    /// <inheritdoc/>
    public Task<DateTimeOffset?> GetNextWakeAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var connection = OpenConnection();
        var next = Query(connection, null, "SELECT min(wake_at) FROM runs WHERE status = 0 AND wake_at IS NOT NULL AND wake_at < $never AND owner IS NULL;",
            r => r.IsDBNull(0) ? (DateTimeOffset?)null : FromUnixMs(r.GetInt64(0)), ("$never", ToUnixMs(RunRecord.WakeOnSignalOnly)));
        return Task.FromResult(next[0]);
    }

    /// <inheritdoc/>
    public Task<SuspendOutcome> SuspendAsync(RunLease lease, DateTimeOffset wakeAt, IReadOnlyCollection<string> signalNames, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(signalNames);
        return WriteAsync((connection, transaction) =>
        {
            switch (Held(connection, transaction, lease))
            {
                case null:
                    return SuspendOutcome.Fenced;
                case true:
                    return SuspendOutcome.CancelRequested;
            }

            // Names go in as one JSON array: any number of them, each a bound value.
            if (Query(connection, transaction,
                "SELECT 1 FROM signals WHERE workflow_id = $id AND taken_by_sequence IS NULL AND name IN (SELECT value FROM json_each($names)) LIMIT 1;",
                r => r.GetInt64(0), ("$id", lease.WorkflowId), ("$names", System.Text.Json.JsonSerializer.Serialize(signalNames))).Count == 1)
            {
                return SuspendOutcome.SignalWaiting;
            }

            Execute(connection, transaction, $"UPDATE runs SET owner = NULL, lease_expires_at = NULL, wake_at = $wake, updated_at = $now WHERE {HeldBy};",
                [.. LeaseParameters(lease), ("$wake", ToUnixMs(wakeAt)), ("$now", ToUnixMs(_time.GetUtcNow()))]);
            return SuspendOutcome.Suspended;
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<LeaseRenewal> RenewAsync(RunLease lease, TimeSpan leaseDuration, CancellationToken cancellationToken)
        => WriteAsync((connection, transaction) =>
        {
            var now = _time.GetUtcNow();
            var renewed = Query(connection, transaction, $"UPDATE runs SET lease_expires_at = $expires, updated_at = $now WHERE {HeldBy} RETURNING cancel_reason IS NOT NULL;",
                r => r.GetBoolean(0), [.. LeaseParameters(lease), ("$expires", ToUnixMs(now + leaseDuration)), ("$now", ToUnixMs(now))]);
            return renewed.Count == 0 ? LeaseRenewal.Lost : renewed[0] ? LeaseRenewal.CancelRequested : LeaseRenewal.Renewed;
        }, cancellationToken);

    /// <inheritdoc/>
    public Task ReleaseAsync(RunLease lease, CancellationToken cancellationToken)
        => WriteAsync((connection, transaction) => Execute(connection, transaction,
            $"UPDATE runs SET owner = NULL, lease_expires_at = NULL, updated_at = $now WHERE {HeldBy};",
            [.. LeaseParameters(lease), ("$now", ToUnixMs(_time.GetUtcNow()))]), cancellationToken);

    /// <inheritdoc/>
    public Task<JournalWriteResult> RecordAttemptAsync(RunLease lease, JournalEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return WriteAsync((connection, transaction) =>
        {
            // A compensation is how a cancelled run is rolled back: it is not new work, so a cancel does not stop it.
            var cancelRequested = Held(connection, transaction, lease);
            if (cancelRequested is null)
            {
                return JournalWriteResult.FencedOut;
            }

            if (cancelRequested.Value && entry.Kind != OperationKind.Compensation)
            {
                return JournalWriteResult.Cancelled;
            }

            // Insert the first attempt, or count another one; a terminal row is never touched.
            Execute(connection, transaction, $"""
                INSERT INTO journal ({JournalColumns})
                VALUES ($id, $sequence, $operation, $kind, 0, $input, NULL, NULL, NULL, 1, NULL, $started, NULL, NULL)
                ON CONFLICT (workflow_id, sequence) DO UPDATE SET attempts = attempts + 1, retry_at = NULL WHERE state = 0;
                """,
                ("$id", lease.WorkflowId), ("$sequence", entry.Sequence), ("$operation", entry.OperationId), ("$kind", (int)entry.Kind),
                ("$input", entry.InputJson), ("$started", ToUnixMs(entry.StartedAt)));
            return new JournalWriteResult(ReadEntry(connection, transaction, lease.WorkflowId, entry.Sequence), false, cancelRequested.Value);
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<JournalWriteResult> CompleteEntryAsync(RunLease lease, JournalEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (!entry.IsTerminal)
        {
            throw new ArgumentException($"Journal row {entry.Sequence} of run '{entry.WorkflowId}' is {entry.State}, not terminal.", nameof(entry));
        }

        return WriteAsync((connection, transaction) =>
        {
            if (Held(connection, transaction, lease) is not { } cancelRequested)
            {
                return JournalWriteResult.FencedOut;
            }

            // Written once: an existing terminal row stays as it is and is returned.
            Execute(connection, transaction, $"""
                INSERT INTO journal ({JournalColumns})
                VALUES ($id, $sequence, $operation, $kind, $state, $input, $output, $error_type, $error_message, $attempts, $completion_index, $started, $completed, NULL)
                ON CONFLICT (workflow_id, sequence) DO UPDATE SET
                    state = excluded.state, output_json = excluded.output_json, error_type = excluded.error_type,
                    error_message = excluded.error_message, completion_index = excluded.completion_index, completed_at = excluded.completed_at,
                    retry_at = NULL
                WHERE state = 0;
                """, EntryParameters(entry with { WorkflowId = lease.WorkflowId }));
            return new JournalWriteResult(ReadEntry(connection, transaction, lease.WorkflowId, entry.Sequence), false, cancelRequested);
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<JournalWriteResult> ScheduleRetryAsync(RunLease lease, JournalEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return WriteAsync((connection, transaction) =>
        {
            if (Held(connection, transaction, lease) is not { } cancelRequested)
            {
                return JournalWriteResult.FencedOut;
            }

            Execute(connection, transaction,
                "UPDATE journal SET error_type = $error_type, error_message = $error_message, retry_at = $retry_at WHERE workflow_id = $id AND sequence = $sequence AND state = 0;",
                ("$id", lease.WorkflowId), ("$sequence", entry.Sequence), ("$error_type", entry.Error?.Type), ("$error_message", entry.Error?.Message),
                ("$retry_at", entry.RetryAt is { } at ? ToUnixMs(at) : null));
            return new JournalWriteResult(TryReadEntry(connection, transaction, lease.WorkflowId, entry.Sequence), false, cancelRequested);
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<bool> CompleteRunAsync(RunLease lease, RunOutcome outcome, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        return WriteAsync((connection, transaction) =>
        {
            var ended = Execute(connection, transaction, $"""
                UPDATE runs SET status = $status, output_json = $output, error_type = $error_type, error_message = $error_message,
                    failed_sequence = $failed_sequence, owner = NULL, lease_expires_at = NULL, updated_at = $now
                WHERE {HeldBy};
                """,
                [.. LeaseParameters(lease), ("$status", (int)outcome.Status), ("$output", outcome.OutputJson), ("$error_type", outcome.Error?.Type),
                    ("$error_message", outcome.Error?.Message), ("$failed_sequence", outcome.FailedSequence), ("$now", ToUnixMs(_time.GetUtcNow()))]) == 1;
            if (ended && outcome.Continuation is { } next)
            {
                if (ReadRun(connection, transaction, next.WorkflowId) is not null)
                {
                    // Thrown inside the transaction, which is rolled back: the run stays as it was.
                    throw new DurableStoreException($"Run '{lease.WorkflowId}' cannot continue as new: id '{next.WorkflowId}' is already taken.");
                }

                Execute(connection, transaction, $"INSERT INTO runs ({RunColumns}) VALUES ($id, $name, $version, $input, $status, $output, $error_type, $error_message, $owner, $epoch, $lease, $created, $updated, $wake, $generation, $cancel_reason, $failed_sequence, $instance_key);",
                    RunParameters(next));
                Execute(connection, transaction, "UPDATE signals SET workflow_id = $next WHERE workflow_id = $id AND taken_by_sequence IS NULL;",
                    ("$next", next.WorkflowId), ("$id", lease.WorkflowId));
            }

            return ended;
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<SignalSendOutcome> AddSignalAsync(SignalRecord signal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(signal);
        return WriteAsync((connection, transaction) =>
        {
            var run = ReadRun(connection, transaction, signal.WorkflowId);
            if (run is null)
            {
                return SignalSendOutcome.RunNotFound;
            }

            if (Query(connection, transaction, "SELECT 1 FROM signals WHERE workflow_id = $id AND signal_id = $signal_id;", r => r.GetInt64(0),
                ("$id", signal.WorkflowId), ("$signal_id", signal.SignalId)).Count == 1)
            {
                return SignalSendOutcome.Duplicate;
            }

            if (run.Status != WorkflowStatus.Running)
            {
                return SignalSendOutcome.RunFinished;
            }

            Execute(connection, transaction, "INSERT INTO signals (workflow_id, signal_id, name, payload_json, sent_at) VALUES ($id, $signal_id, $name, $payload, $sent);",
                ("$id", signal.WorkflowId), ("$signal_id", signal.SignalId), ("$name", signal.Name), ("$payload", signal.PayloadJson), ("$sent", ToUnixMs(signal.SentAt)));
            Execute(connection, transaction, "UPDATE runs SET wake_at = NULL WHERE workflow_id = $id AND wake_at IS NOT NULL;", ("$id", signal.WorkflowId));
            return SignalSendOutcome.Accepted;
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<CancelRequestOutcome> RequestCancelAsync(string workflowId, string reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reason);
        return WriteAsync((connection, transaction) =>
        {
            var run = ReadRun(connection, transaction, workflowId);
            if (run is null)
            {
                return CancelRequestOutcome.RunNotFound;
            }

            if (run.Status != WorkflowStatus.Running)
            {
                return CancelRequestOutcome.RunFinished;
            }

            if (run.IsCancelRequested)
            {
                return CancelRequestOutcome.AlreadyRequested;
            }

            Execute(connection, transaction, "UPDATE runs SET cancel_reason = $reason, wake_at = NULL, updated_at = $now WHERE workflow_id = $id;",
                ("$id", workflowId), ("$reason", reason), ("$now", ToUnixMs(_time.GetUtcNow())));
            return CancelRequestOutcome.Requested;
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<RunRecord?> ReviveDeadLetterAsync(string workflowId, string? cancelReason, CancellationToken cancellationToken)
        => WriteAsync((connection, transaction) =>
        {
            var run = ReadRun(connection, transaction, workflowId);
            if (run is not { Status: WorkflowStatus.DeadLettered })
            {
                return run;
            }

            if (HolderOf(connection, transaction, run.WorkflowName, run.InstanceKey, except: workflowId) is { } holder)
            {
                throw new WorkflowInstanceActiveException(run.WorkflowName, run.InstanceKey!, holder.WorkflowId);
            }

            var now = ToUnixMs(_time.GetUtcNow());
            if (run.FailedSequence is { } sequence)
            {
                Execute(connection, transaction, """
                    UPDATE journal SET state = $attempting, attempts = 0, completion_index = NULL, completed_at = NULL, retry_at = $now
                    WHERE workflow_id = $id AND sequence = $sequence AND state = $failed AND ($retry OR kind = $compensation);
                    """,
                    ("$id", workflowId), ("$sequence", sequence), ("$now", now), ("$attempting", (int)JournalEntryState.Attempting),
                    ("$failed", (int)JournalEntryState.Failed), ("$retry", cancelReason is null), ("$compensation", (int)OperationKind.Compensation));
            }

            Execute(connection, transaction, """
                UPDATE runs SET status = $running, output_json = NULL, error_type = NULL, error_message = NULL, failed_sequence = NULL,
                    owner = NULL, lease_expires_at = NULL, wake_at = NULL, cancel_reason = COALESCE(cancel_reason, $reason), updated_at = $now
                WHERE workflow_id = $id;
                """,
                ("$id", workflowId), ("$running", (int)WorkflowStatus.Running), ("$reason", cancelReason), ("$now", now));
            return run;
        }, cancellationToken);

    /// <inheritdoc/>
    public Task<JournalWriteResult> TakeSignalAsync(RunLease lease, JournalEntry completed, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(completed);
        return WriteAsync((connection, transaction) =>
        {
            switch (Held(connection, transaction, lease))
            {
                case null:
                    return JournalWriteResult.FencedOut;
                case true:
                    return JournalWriteResult.Cancelled;
            }

            var stored = TryReadEntry(connection, transaction, lease.WorkflowId, completed.Sequence);
            if (stored is { IsTerminal: true })
            {
                return new JournalWriteResult(stored, false);
            }

            var signal = Query(connection, transaction,
                "SELECT position, payload_json FROM signals WHERE workflow_id = $id AND name = $name AND taken_by_sequence IS NULL ORDER BY position LIMIT 1;",
                r => (Position: r.GetInt64(0), Payload: r.GetString(1)), ("$id", lease.WorkflowId), ("$name", name));
            if (signal.Count == 0)
            {
                return new JournalWriteResult(null, false);
            }

            Execute(connection, transaction, "UPDATE signals SET taken_by_sequence = $sequence WHERE position = $position;",
                ("$sequence", completed.Sequence), ("$position", signal[0].Position));
            var written = (stored ?? completed with { WorkflowId = lease.WorkflowId }) with
            {
                State = JournalEntryState.Completed,
                OutputJson = signal[0].Payload,
                Error = null,
                CompletionIndex = completed.CompletionIndex,
                CompletedAt = completed.CompletedAt,
            };
            Execute(connection, transaction, $"INSERT OR REPLACE INTO journal ({JournalColumns}) VALUES ($id, $sequence, $operation, $kind, $state, $input, $output, $error_type, $error_message, $attempts, $completion_index, $started, $completed, NULL);",
                EntryParameters(written));
            return new JournalWriteResult(TryReadEntry(connection, transaction, lease.WorkflowId, completed.Sequence), false);
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _writer.Dispose();
        SqliteConnection.ClearPool(new SqliteConnection(_connectionString));
    }

    // ---- plumbing ----

    private const string HeldBy = "workflow_id = $id AND status = 0 AND owner = $owner AND epoch = $epoch";

    private static bool IsHeld(SqliteConnection connection, SqliteTransaction transaction, RunLease lease)
        => Held(connection, transaction, lease) is not null;

    /// <summary>Null when <paramref name="lease"/> is not current on an active run; otherwise whether a cancel was requested.</summary>
    private static bool? Held(SqliteConnection connection, SqliteTransaction transaction, RunLease lease)
        => Query(connection, transaction, $"SELECT cancel_reason IS NOT NULL FROM runs WHERE {HeldBy};", r => r.GetBoolean(0), LeaseParameters(lease)) is [var cancel] ? cancel : null;

    private static (string, object?)[] LeaseParameters(RunLease lease)
        => [("$id", lease.WorkflowId), ("$owner", lease.Owner), ("$epoch", lease.Epoch)];

    private SqliteConnection OpenConnection()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var pragmas = connection.CreateCommand();
        // Per connection: a committed journal row survives power loss, and concurrent writers wait rather than fail.
        pragmas.CommandText = "PRAGMA synchronous = FULL; PRAGMA busy_timeout = 30000; PRAGMA foreign_keys = ON;";
        pragmas.ExecuteNonQuery();
        return connection;
    }

    /// <summary>Runs <paramref name="write"/> in a <c>BEGIN IMMEDIATE</c> transaction, one writer of this process at a time.</summary>
    private async Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, T> write, CancellationToken cancellationToken)
    {
        await _writer.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var connection = OpenConnection();
            using var transaction = connection.BeginTransaction(deferred: false);
            var result = write(connection, transaction);
            transaction.Commit();
            return result;
        }
        catch (SqliteException ex)
        {
            throw new DurableStoreException(Describe(Path, ex), ex);
        }
        finally
        {
            _writer.Release();
        }
    }

    private static int Execute(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, transaction, sql, parameters);
        return command.ExecuteNonQuery();
    }

    private static List<T> Query<T>(SqliteConnection connection, SqliteTransaction? transaction, string sql, Func<DbDataReader, T> read, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, transaction, sql, parameters);
        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read())
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql, (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    /// <summary>The active run of <paramref name="workflowName"/> that holds <paramref name="instanceKey"/>.</summary>
    private static RunRecord? HolderOf(SqliteConnection connection, SqliteTransaction transaction, string workflowName, string? instanceKey, string? except = null)
        => instanceKey is null ? null
            : Query(connection, transaction, $"SELECT {RunColumns} FROM runs WHERE workflow_name = $name AND instance_key = $key AND status = 0 AND workflow_id IS NOT $except;",
                r => StoredRows.ReadRun(r, ReadTime), ("$name", workflowName), ("$key", instanceKey), ("$except", except)).SingleOrDefault();

    private static RunRecord? ReadRun(SqliteConnection connection, SqliteTransaction? transaction, string workflowId)
        => Query(connection, transaction, $"SELECT {RunColumns} FROM runs WHERE workflow_id = $id;", r => StoredRows.ReadRun(r, ReadTime), ("$id", workflowId)).SingleOrDefault();

    private static JournalEntry ReadEntry(SqliteConnection connection, SqliteTransaction transaction, string workflowId, long sequence)
        => TryReadEntry(connection, transaction, workflowId, sequence)!;

    private static JournalEntry? TryReadEntry(SqliteConnection connection, SqliteTransaction transaction, string workflowId, long sequence)
        => Query(connection, transaction, $"SELECT {JournalColumns} FROM journal WHERE workflow_id = $id AND sequence = $sequence;", ReadEntry,
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
