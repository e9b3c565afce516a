using System.Collections.Concurrent;
using System.Data.Common;
using System.Diagnostics;
using Durably.Runtime.Journal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Durably.Runtime.Stores.Postgres;

/// <summary>
/// The production store: many worker processes on many machines share one PostgreSQL database.
/// </summary>
/// <remarks>
/// <para>
/// Each worker process incarnation has one row in the <c>workers</c> table, renewed by a single-row heartbeat and
/// judged by the database clock. A run belongs to (worker, epoch): a claim takes runs that are unowned, owned by an
/// earlier incarnation with the same worker name (a restarted worker reclaims its runs at once), or owned by a worker
/// whose lease has expired, with <c>FOR UPDATE SKIP LOCKED</c>, and bumps the run's epoch. Every journal write locks
/// the run row and checks its status and epoch in the same statement, so a fenced worker's write changes nothing.
/// </para>
/// <para>
/// Start and result wake idle workers and waiting callers through <c>LISTEN/NOTIFY</c> (never a step); polling stays
/// the fallback. Calls that fail because the connection broke or the server is restarting are retried with
/// exponential backoff and jitter for <see cref="PostgresStoreOptions.RetryBudget"/>.
/// </para>
/// </remarks>
public sealed partial class PostgresWorkflowStore : IWorkflowStore, ITransactionalStepStore, IWorkflowStoreEvents, IAsyncDisposable, IDisposable
{
    /// <summary>The schema version this code creates and reads.</summary>
    public const int SchemaVersion = PostgresSchema.Version;

    /// <summary>How many statements each connection prepares automatically when the connection string does not say.</summary>
    public const int AutoPreparedStatements = 32;

    private static readonly TimeSpan s_firstRetryDelay = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan s_maxRetryDelay = TimeSpan.FromSeconds(2);

    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _schema;
    private readonly string _channel;
    private readonly TimeSpan _retryBudget;
    private readonly ConcurrentDictionary<string, Guid> _incarnations = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _listenerGate = new();
    private readonly PostgresStatements _sql;
    private Action? _runsAvailable;
    private Action<string?>? _runFinished;
    private Action<string?>? _runSignalled;
    private Task? _listener;

    private PostgresWorkflowStore(NpgsqlDataSource dataSource, bool ownsDataSource, PostgresStoreOptions options, TimeProvider time, ILogger? logger)
    {
        _dataSource = dataSource;
        _ownsDataSource = ownsDataSource;
        _time = time;
        _logger = logger ?? NullLogger.Instance;
        _schema = options.Schema;
        _channel = options.Schema + "_events";
        _retryBudget = options.RetryBudget;
        _sql = new PostgresStatements(Quote(options.Schema));
        Server = Describe(dataSource.ConnectionString);
    }

    /// <summary>Where the store lives, for messages: host, port, database and user — never the password.</summary>
    public string Server { get; }

    /// <summary>The schema holding Durably's tables.</summary>
    public string Schema => _schema;

    /// <summary>How many times the notification listener has connected (and so re-listened after a lost connection).</summary>
    public int ListenerConnections { get; private set; }

    /// <summary>
    /// Opens the store on <paramref name="connectionString"/>: connects, and creates or migrates the schema (several
    /// workers may do this at once; an advisory lock orders them).
    /// </summary>
    /// <param name="connectionString">
    /// An Npgsql connection string. Unless it sets <c>Max Auto Prepare</c>, the store prepares up to
    /// <see cref="AutoPreparedStatements"/> statements per connection.
    /// </param>
    /// <param name="options">The schema and retry settings; the defaults when null.</param>
    /// <param name="timeProvider">
    /// The clock of timestamps written for the engine. Leases are judged by the database clock; a clock other than
    /// <see cref="TimeProvider.System"/> shifts the database clock by its difference from the system clock (tests use
    /// this to expire leases without waiting).
    /// </param>
    /// <param name="logger">Where the store reports connection trouble it recovers from.</param>
    /// <returns>The store.</returns>
    /// <exception cref="ArgumentException">The connection string or an option is invalid.</exception>
    /// <exception cref="DurableStoreException">The database cannot be reached or its schema is not Durably's or is newer.</exception>
    public static PostgresWorkflowStore Open(string connectionString, PostgresStoreOptions? options = null, TimeProvider? timeProvider = null, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        NpgsqlDataSource dataSource;
        try
        {
            // The store sends a handful of statements over and over: prepared once per connection, each costs about half
            // (see the load tool), unless the application chose its own setting.
            var builder = new NpgsqlConnectionStringBuilder(connectionString);
            if (builder.MaxAutoPrepare == 0)
            {
                builder.MaxAutoPrepare = AutoPreparedStatements;
                builder.AutoPrepareMinUsages = 2;
            }

            dataSource = NpgsqlDataSource.Create(builder);
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"The PostgreSQL connection string is invalid: {ex.Message}", nameof(connectionString), ex);
        }

        return Open(dataSource, ownsDataSource: true, options, timeProvider, logger);
    }

    /// <summary>
    /// Opens the store on an application's <paramref name="dataSource"/>, which the store does not dispose. Set
    /// <c>Max Auto Prepare</c> on it (e.g. to <see cref="AutoPreparedStatements"/>): the store's statements repeat, and
    /// prepared they cost about half.
    /// </summary>
    /// <param name="dataSource">The data source, e.g. from dependency injection.</param>
    /// <param name="options">The schema and retry settings; the defaults when null.</param>
    /// <param name="timeProvider">The clock; see <see cref="Open(string, PostgresStoreOptions?, TimeProvider?, ILogger?)"/>.</param>
    /// <param name="logger">Where the store reports connection trouble it recovers from.</param>
    /// <returns>The store.</returns>
    /// <exception cref="DurableStoreException">The database cannot be reached or its schema is not Durably's or is newer.</exception>
    public static PostgresWorkflowStore Open(NpgsqlDataSource dataSource, PostgresStoreOptions? options = null, TimeProvider? timeProvider = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        return Open(dataSource, ownsDataSource: false, options, timeProvider, logger);
    }

    private static PostgresWorkflowStore Open(NpgsqlDataSource dataSource, bool ownsDataSource, PostgresStoreOptions? options, TimeProvider? timeProvider, ILogger? logger)
    {
        options ??= new PostgresStoreOptions();
        try
        {
            options.Validate();
        }
        catch when (ownsDataSource)
        {
            dataSource.Dispose();
            throw;
        }

        var store = new PostgresWorkflowStore(dataSource, ownsDataSource, options, timeProvider ?? TimeProvider.System, logger);
        try
        {
            PostgresSchema.CreateOrMigrate(dataSource, options.Schema, store.Server);
            return store;
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <summary>Host, port, database and user of a connection string, for messages; the password is never included.</summary>
    internal static string Describe(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return $"host '{builder.Host}', port {builder.Port}, database '{builder.Database ?? builder.Username}', user '{builder.Username}'";
    }

    internal static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <inheritdoc/>
    public event Action? RunsAvailable
    {
        add
        {
            _runsAvailable += value;
            EnsureListening();
        }

        remove => _runsAvailable -= value;
    }

    /// <inheritdoc/>
    public event Action<string?>? RunFinished
    {
        add
        {
            _runFinished += value;
            EnsureListening();
        }

        remove => _runFinished -= value;
    }

    /// <inheritdoc/>
    public event Action<string?>? RunSignalled
    {
        add
        {
            _runSignalled += value;
            EnsureListening();
        }

        remove => _runSignalled -= value;
    }

    /// <inheritdoc/>
    public Task<(RunRecord Run, bool Created)> CreateRunAsync(RunRecord run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        return ExecuteAsync("start a run", async token =>
        {
            // Two concurrent creators: the loser's statement may not see the winner's row in its snapshot; it looks again.
            while (true)
            {
                await using var command = Command(_sql.CreateRun,
                    ("id", run.WorkflowId), ("name", run.WorkflowName), ("version", run.Version), ("input", run.InputJson),
                    ("status", (short)run.Status), ("output", run.OutputJson), ("error_type", run.Error?.Type), ("error_message", run.Error?.Message),
                    ("owner", run.Owner), ("epoch", run.Epoch), ("created", Utc(run.CreatedAt)), ("updated", Utc(run.UpdatedAt)), ("generation", run.Generation),
                    ("instance_key", run.InstanceKey), ("channel", _channel));
                await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
                if (await reader.ReadAsync(token).ConfigureAwait(false))
                {
                    return (ReadRun(reader), reader.GetBoolean(RunColumnCount));
                }
            }
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<RunRecord?> GetRunAsync(string workflowId, CancellationToken cancellationToken)
        => ExecuteAsync("read a run", async token =>
        {
            await using var command = Command(_sql.GetRun, ("id", workflowId));
            await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
            return await reader.ReadAsync(token).ConfigureAwait(false) ? ReadRun(reader) : null;
        }, cancellationToken);

    /// <inheritdoc/>
    public Task<IReadOnlyList<RunRecord>> ListRunsAsync(RunListQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var conditions = new List<string>();
        var parameters = new List<(string, object?)> { ("limit", query.Limit) };
        if (query.WorkflowName is { } name)
        {
            conditions.Add("r.workflow_name = @name");
            parameters.Add(("name", name));
        }

        if (query.Status is { } status)
        {
            conditions.Add("r.status = @status");
            parameters.Add(("status", (short)status));
        }

        if (query.CreatedFrom is { } from)
        {
            conditions.Add("r.created_at >= @from");
            parameters.Add(("from", Utc(from)));
        }

        if (query.CreatedBefore is { } before)
        {
            conditions.Add("r.created_at < @before");
            parameters.Add(("before", Utc(before)));
        }

        if (query.After is { } after)
        {
            conditions.Add("(r.created_at, r.workflow_id) < (@after_created, @after_id)");
            parameters.Add(("after_created", Utc(after.CreatedAt)));
            parameters.Add(("after_id", after.WorkflowId));
        }

        return ExecuteAsync("list runs", async token =>
        {
            await using var command = Command(_sql.ListRuns(conditions), [.. parameters]);
            await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
            var page = new List<RunRecord>();
            while (await reader.ReadAsync(token).ConfigureAwait(false))
            {
                page.Add(ReadRun(reader));
            }

            return (IReadOnlyList<RunRecord>)page;
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<RunSnapshot?> LoadAsync(string workflowId, CancellationToken cancellationToken)
        => ExecuteAsync("load a run's journal", async token =>
        {
            // One round trip: the run row and its whole journal in one batch.
            await using var batch = _dataSource.CreateBatch();
            batch.BatchCommands.Add(BatchCommand(_sql.GetRun, ("id", workflowId)));
            batch.BatchCommands.Add(BatchCommand(_sql.GetJournal, ("id", workflowId)));
            await using var reader = await batch.ExecuteReaderAsync(token).ConfigureAwait(false);
            if (!await reader.ReadAsync(token).ConfigureAwait(false))
            {
                return null;
            }

            var run = ReadRun(reader);
            await reader.NextResultAsync(token).ConfigureAwait(false);
            var journal = new List<JournalEntry>();
            while (await reader.ReadAsync(token).ConfigureAwait(false))
            {
                journal.Add(ReadEntry(reader));
            }

            return new RunSnapshot(run, journal);
        }, cancellationToken);

    /// <inheritdoc/>
    public Task<RunLease?> TryClaimAsync(string workflowId, string owner, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        return ExecuteAsync("claim a run", async token =>
        {
            await using var command = Command(_sql.Claim,
                ("id", workflowId), ("owner", owner), ("incarnation", Incarnation(owner)), ("lease", leaseDuration), ("skew", Skew()), ("now", Utc(_time.GetUtcNow())));
            await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
            return await reader.ReadAsync(token).ConfigureAwait(false)
                ? new RunLease(workflowId, owner, reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1))
                : null;
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<string>> ListClaimableAsync(string owner, int limit, CancellationToken cancellationToken)
        => ExecuteAsync<IReadOnlyList<string>>("list claimable runs", async token =>
        {
            await using var command = Command(_sql.ListClaimable, ("owner", owner), ("limit", limit), ("skew", Skew()));
            await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
            var ids = new List<string>();
            while (await reader.ReadAsync(token).ConfigureAwait(false))
            {
                ids.Add(reader.GetString(0));
            }

            return ids;
        }, cancellationToken);

    /// <inheritdoc/>
    public Task<DateTimeOffset?> GetNextWakeAsync(CancellationToken cancellationToken)
        => ExecuteAsync("read the next wake time", async token =>
        {
            await using var command = Command(_sql.NextWake, ("never", Utc(RunRecord.WakeOnSignalOnly)));
            return await command.ExecuteScalarAsync(token).ConfigureAwait(false) is DateTime next
                ? new DateTimeOffset(next, TimeSpan.Zero)
                : (DateTimeOffset?)null;
        }, cancellationToken);

    /// <inheritdoc/>
    public Task<SuspendOutcome> SuspendAsync(RunLease lease, DateTimeOffset wakeAt, IReadOnlyCollection<string> signalNames, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(signalNames);
        return ExecuteAsync("unload a run", async token =>
        {
            await using var batch = _dataSource.CreateBatch();
            batch.BatchCommands.Add(BatchCommand(_sql.SuspendLock, LeaseParameters(lease)));
            batch.BatchCommands.Add(BatchCommand(_sql.Suspend,
                [.. LeaseParameters(lease), ("wake", Utc(wakeAt)), ("now", Utc(_time.GetUtcNow())), ("names", signalNames.ToArray())]));
            await using var reader = await batch.ExecuteReaderAsync(token).ConfigureAwait(false);
            var held = await reader.ReadAsync(token).ConfigureAwait(false);
            var cancelRequested = held && reader.GetBoolean(0);
            await reader.NextResultAsync(token).ConfigureAwait(false);
            var suspended = await reader.ReadAsync(token).ConfigureAwait(false);
            return suspended ? SuspendOutcome.Suspended
                : !held ? SuspendOutcome.Fenced
                : cancelRequested ? SuspendOutcome.CancelRequested
                : SuspendOutcome.SignalWaiting;
        }, cancellationToken);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Renewal is the worker's single-row heartbeat; it reports whether the run is still held by this lease and whether
    /// a cancel was requested.
    /// </remarks>
    public Task<LeaseRenewal> RenewAsync(RunLease lease, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        return ExecuteAsync("renew a lease", async token =>
        {
            await using var command = Command(_sql.Renew,
                [.. LeaseParameters(lease), ("incarnation", Incarnation(lease.Owner)), ("lease", leaseDuration), ("skew", Skew())]);
            return await command.ExecuteScalarAsync(token).ConfigureAwait(false) switch
            {
                true => LeaseRenewal.CancelRequested,
                false => LeaseRenewal.Renewed,
                _ => LeaseRenewal.Lost,
            };
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task ReleaseAsync(RunLease lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        return ExecuteAsync("release a run", async token =>
        {
            await using var command = Command(_sql.Release, [.. LeaseParameters(lease), ("now", Utc(_time.GetUtcNow())), ("channel", _channel)]);
            return await command.ExecuteNonQueryAsync(token).ConfigureAwait(false);
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<JournalWriteResult> RecordAttemptAsync(RunLease lease, JournalEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(entry);
        return entry.Kind == OperationKind.Compensation
            ? WriteEntryAsync(_sql.RecordCompensationAttempt, startsWork: false, lease, entry with { WorkflowId = lease.WorkflowId }, "record a compensation attempt", cancellationToken)
            : WriteEntryAsync(_sql.RecordAttempt, startsWork: true, lease, entry with { WorkflowId = lease.WorkflowId }, "record a step attempt", cancellationToken);
    }

    /// <inheritdoc/>
    public Task<JournalWriteResult> CompleteEntryAsync(RunLease lease, JournalEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(entry);
        if (!entry.IsTerminal)
        {
            throw new ArgumentException($"Journal row {entry.Sequence} of run '{entry.WorkflowId}' is {entry.State}, not terminal.", nameof(entry));
        }

        return WriteEntryAsync(_sql.CompleteEntry, startsWork: false, lease, entry with { WorkflowId = lease.WorkflowId }, "record a step outcome", cancellationToken);
    }

    /// <inheritdoc/>
    public Task<JournalWriteResult> ScheduleRetryAsync(RunLease lease, JournalEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(entry);
        return ExecuteAsync("schedule a step retry", async token =>
        {
            await using var command = Command(_sql.ScheduleRetry,
                [.. LeaseParameters(lease), ("sequence", entry.Sequence), ("error_type", entry.Error?.Type), ("error_message", entry.Error?.Message),
                    ("retry_at", entry.RetryAt is { } at ? Utc(at) : null)]);
            await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
            await reader.ReadAsync(token).ConfigureAwait(false);
            return ReadWriteResult(reader, startsWork: false);
        }, cancellationToken);
    }

    /// <summary>One statement, one round trip: lock the run row, check status and epoch, write the row, return what is stored.</summary>
    private Task<JournalWriteResult> WriteEntryAsync(string sql, bool startsWork, RunLease lease, JournalEntry entry, string operation, CancellationToken cancellationToken)
        => ExecuteAsync(operation, async token =>
        {
            await using var command = EntryCommand(sql, lease, entry);
            await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
            await reader.ReadAsync(token).ConfigureAwait(false);
            return ReadWriteResult(reader, startsWork);
        }, cancellationToken);

    private NpgsqlCommand EntryCommand(string sql, RunLease lease, JournalEntry entry) => Command(sql, EntryParameters(lease, entry));

    private static (string Name, object? Value)[] EntryParameters(RunLease lease, JournalEntry entry) =>
    [
        ("id", lease.WorkflowId), ("owner", lease.Owner), ("epoch", lease.Epoch), ("sequence", entry.Sequence), ("operation", entry.OperationId),
        ("kind", (short)entry.Kind), ("state", (short)entry.State), ("input", entry.InputJson), ("output", entry.OutputJson),
        ("error_type", entry.Error?.Type), ("error_message", entry.Error?.Message), ("attempts", entry.Attempts),
        ("completion_index", entry.CompletionIndex), ("started", Utc(entry.StartedAt)), ("completed", entry.CompletedAt is { } completed ? Utc(completed) : null),
    ];

    /// <inheritdoc/>
    async Task<StepTransaction> ITransactionalStepStore.BeginStepTransactionAsync(CancellationToken cancellationToken)
    {
        var connection = await ExecuteAsync("open a step's transaction", token => _dataSource.OpenConnectionAsync(token).AsTask(), cancellationToken).ConfigureAwait(false);
        try
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            return new PostgresStepTransaction(connection, transaction);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <inheritdoc/>
    async Task<JournalWriteResult> ITransactionalStepStore.CommitStepAsync(RunLease lease, JournalEntry entry, StepTransaction begun, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(entry);
        var transaction = begun as PostgresStepTransaction ?? throw new ArgumentException(
            $"The PostgreSQL store commits only the step transactions it began; this one is a {begun?.GetType().Name ?? "null"}.", nameof(begun));
        await using (transaction.ConfigureAwait(false))
        {
            try
            {
                JournalWriteResult result;
                await using (var command = new NpgsqlCommand(_sql.CompleteEntry, transaction.Connection, transaction.Transaction))
                {
                    foreach (var (name, value) in EntryParameters(lease, entry with { WorkflowId = lease.WorkflowId }))
                    {
                        command.Parameters.AddWithValue(name, value ?? DBNull.Value);
                    }

                    await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                    await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                    result = ReadWriteResult(reader, startsWork: false);
                }

                // The fenced journal update is the last statement: commit only when it wrote this attempt's outcome.
                if (result.Entry is { } stored && stored.State == entry.State && stored.CompletionIndex == entry.CompletionIndex && stored.Attempts == entry.Attempts)
                {
                    await transaction.Transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
                }
                else
                {
                    await transaction.Transaction.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
                }

                return result;
            }
            catch (NpgsqlException ex)
            {
                throw new DurableStoreException(
                    $"PostgreSQL could not commit the transaction of step '{entry.OperationId}' (sequence {entry.Sequence}) of run '{lease.WorkflowId}' at {Server}: {ex.Message}. "
                    + "Whether it committed is unknown; the next execution reads the journal and either replays the step or runs it again.", ex);
            }
        }
    }

    /// <summary>Reads a fenced write's row: the journal columns (null when none), then whether held and whether cancel was requested.</summary>
    private static JournalWriteResult ReadWriteResult(DbDataReader reader, bool startsWork)
    {
        var held = reader.GetBoolean(JournalColumnCount);
        var cancel = reader.GetBoolean(JournalColumnCount + 1);
        return !held ? JournalWriteResult.FencedOut
            : cancel && startsWork ? JournalWriteResult.Cancelled
            : new JournalWriteResult(reader.IsDBNull(0) ? null : ReadEntry(reader), false, cancel);
    }

    /// <inheritdoc/>
    public Task<bool> CompleteRunAsync(RunLease lease, RunOutcome outcome, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(outcome);
        if (outcome.Continuation is { } next)
        {
            return ContinueRunAsync(lease, outcome, next, cancellationToken);
        }

        return ExecuteAsync("end a run", async token =>
        {
            await using var command = Command(_sql.CompleteRun,
                [.. LeaseParameters(lease), ("status", (short)outcome.Status), ("output", outcome.OutputJson), ("error_type", outcome.Error?.Type),
                    ("error_message", outcome.Error?.Message), ("failed_sequence", outcome.FailedSequence), ("now", Utc(_time.GetUtcNow())), ("channel", _channel)]);
            return await command.ExecuteNonQueryAsync(token).ConfigureAwait(false) == 1;
        }, cancellationToken);
    }

    private Task<bool> ContinueRunAsync(RunLease lease, RunOutcome outcome, RunRecord next, CancellationToken cancellationToken)
        => ExecuteAsync("continue a run as new", async token =>
        {
            await using var command = Command(_sql.ContinueRun,
                [.. LeaseParameters(lease), ("status", (short)outcome.Status), ("now", Utc(_time.GetUtcNow())), ("channel", _channel),
                    ("next_id", next.WorkflowId), ("next_name", next.WorkflowName), ("next_version", next.Version), ("next_input", next.InputJson),
                    ("next_generation", next.Generation), ("next_instance_key", next.InstanceKey)]);
            try
            {
                return await command.ExecuteScalarAsync(token).ConfigureAwait(false) is 1L;
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                // The whole statement failed: the run is as it was.
                throw new DurableStoreException($"Run '{lease.WorkflowId}' cannot continue as new: id '{next.WorkflowId}' is already taken.", ex);
            }
        }, cancellationToken);

    /// <inheritdoc/>
    public Task<SignalSendOutcome> AddSignalAsync(SignalRecord signal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(signal);
        return ExecuteAsync("store a signal", async token =>
        {
            await using var command = Command(_sql.AddSignal,
                ("id", signal.WorkflowId), ("signal_id", signal.SignalId), ("name", signal.Name), ("payload", signal.PayloadJson),
                ("sent", Utc(signal.SentAt)), ("channel", _channel));
            await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
            await reader.ReadAsync(token).ConfigureAwait(false);
            return (Exists: reader.GetBoolean(0), Inserted: reader.GetBoolean(1), Duplicate: reader.GetBoolean(2)) switch
            {
                { Exists: false } => SignalSendOutcome.RunNotFound,
                { Inserted: true } => SignalSendOutcome.Accepted,
                { Duplicate: true } => SignalSendOutcome.Duplicate,
                _ when reader.GetInt16(3) == (short)WorkflowStatus.Running => SignalSendOutcome.Duplicate,
                _ => SignalSendOutcome.RunFinished,
            };
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<CancelRequestOutcome> RequestCancelAsync(string workflowId, string reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reason);
        return ExecuteAsync("request a cancel", async token =>
        {
            await using var command = Command(_sql.RequestCancel, ("id", workflowId), ("reason", reason), ("now", Utc(_time.GetUtcNow())), ("channel", _channel));
            await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
            await reader.ReadAsync(token).ConfigureAwait(false);
            return reader.IsDBNull(0) ? CancelRequestOutcome.RunNotFound
                : reader.GetBoolean(1) ? CancelRequestOutcome.Requested
                : reader.GetInt16(0) == (short)WorkflowStatus.Running ? CancelRequestOutcome.AlreadyRequested
                : CancelRequestOutcome.RunFinished;
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<RunRecord?> ReviveDeadLetterAsync(string workflowId, string? cancelReason, CancellationToken cancellationToken)
        => ExecuteAsync("revive a dead-lettered run", async token =>
        {
            await using var command = Command(_sql.ReviveDeadLetter,
                ("id", workflowId), ("reason", cancelReason), ("now", Utc(_time.GetUtcNow())), ("channel", _channel),
                ("dead_lettered", (short)WorkflowStatus.DeadLettered), ("attempting", (short)JournalEntryState.Attempting),
                ("failed", (short)JournalEntryState.Failed), ("compensation", (short)OperationKind.Compensation));
            try
            {
                await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
                return await reader.ReadAsync(token).ConfigureAwait(false) ? ReadRun(reader) : null;
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation && ex.ConstraintName == "runs_by_instance")
            {
                // Another active run of the workflow holds the run's instance key: the statement changed nothing.
                await using var holder = Command(_sql.InstanceHolder, ("id", workflowId));
                await using var reader = await holder.ExecuteReaderAsync(token).ConfigureAwait(false);
                if (!await reader.ReadAsync(token).ConfigureAwait(false))
                {
                    throw;
                }

                throw new WorkflowInstanceActiveException(reader.GetString(0), reader.GetString(1), reader.GetString(2));
            }
        }, cancellationToken);

    /// <inheritdoc/>
    public Task<JournalWriteResult> TakeSignalAsync(RunLease lease, JournalEntry completed, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(completed);
        return ExecuteAsync("deliver a signal", async token =>
        {
            await using var command = Command(_sql.TakeSignal,
                [.. LeaseParameters(lease), ("sequence", completed.Sequence), ("name", name), ("completion_index", completed.CompletionIndex),
                    ("completed", completed.CompletedAt is { } at ? Utc(at) : null)]);
            await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
            await reader.ReadAsync(token).ConfigureAwait(false);
            return ReadWriteResult(reader, startsWork: true);
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_listener is { } listener)
        {
            await listener.ConfigureAwait(false);
        }

        if (_ownsDataSource)
        {
            await _dataSource.DisposeAsync().ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    /// <inheritdoc/>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    // ---- leases and the database clock ----

    /// <summary>This process's incarnation of worker <paramref name="owner"/>: a fresh id the first time the name is used.</summary>
    private Guid Incarnation(string owner) => _incarnations.GetOrAdd(owner, static _ => Guid.NewGuid());

    /// <summary>How far the store's clock is from the system clock: zero in production, a test clock's offset in tests.</summary>
    private TimeSpan Skew() => ReferenceEquals(_time, TimeProvider.System) ? TimeSpan.Zero : _time.GetUtcNow() - TimeProvider.System.GetUtcNow();

    private static (string, object?)[] LeaseParameters(RunLease lease) => [("id", lease.WorkflowId), ("owner", lease.Owner), ("epoch", lease.Epoch)];

    // ---- notifications ----

    private void EnsureListening()
    {
        lock (_listenerGate)
        {
            if (_listener is null && !_stopping.IsCancellationRequested)
            {
                _listener = Task.Run(() => ListenAsync(_stopping.Token));
            }
        }
    }

    /// <summary>Holds one connection that listens for starts and results; reconnects with backoff when it drops.</summary>
    private async Task ListenAsync(CancellationToken cancellationToken)
    {
        var delay = s_firstRetryDelay;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                connection.Notification += OnNotification;
                await using (var listen = new NpgsqlCommand($"LISTEN {Quote(_channel)}", connection))
                {
                    await listen.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                ListenerConnections++;
                delay = s_firstRetryDelay;

                // Whatever happened while nobody listened: let idle workers and waiting callers look now.
                _runsAvailable?.Invoke();
                _runFinished?.Invoke(null);
                _runSignalled?.Invoke(null);
                try
                {
                    while (true)
                    {
                        await connection.WaitAsync(cancellationToken).ConfigureAwait(false);
                    }
                }
                finally
                {
                    connection.Notification -= OnNotification;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException or InvalidOperationException)
            {
                LogListenerLost(_logger, Server, delay, ex);
                try
                {
                    await Task.Delay(Jitter(delay), cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                delay = Next(delay);
            }
        }
    }

    private void OnNotification(object sender, NpgsqlNotificationEventArgs e)
    {
        if (e.Payload == PostgresSchema.RunsAvailablePayload)
        {
            _runsAvailable?.Invoke();
        }
        else if (e.Payload.StartsWith(PostgresSchema.RunFinishedPrefix, StringComparison.Ordinal))
        {
            var id = e.Payload[PostgresSchema.RunFinishedPrefix.Length..];
            _runFinished?.Invoke(id.Length == 0 ? null : id);
        }
        else if (e.Payload.StartsWith(PostgresSchema.RunSignalledPrefix, StringComparison.Ordinal))
        {
            var id = e.Payload[PostgresSchema.RunSignalledPrefix.Length..];
            _runSignalled?.Invoke(id.Length == 0 ? null : id);
        }
    }

    // ---- plumbing ----

    /// <summary>
    /// Runs one store call, retrying it with exponential backoff and jitter while the failure is the connection's or the
    /// server's (not the statement's) and <see cref="PostgresStoreOptions.RetryBudget"/> lasts. Every statement is safe to
    /// repeat: writes are idempotent or checked against the lease.
    /// </summary>
    private async Task<T> ExecuteAsync<T>(string operation, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var delay = s_firstRetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsTransient(ex) && !cancellationToken.IsCancellationRequested && Stopwatch.GetElapsedTime(started) < _retryBudget)
            {
                LogRetrying(_logger, operation, Server, attempt, delay, ex);
                await Task.Delay(Jitter(delay), cancellationToken).ConfigureAwait(false);
                delay = Next(delay);
            }
            catch (Exception ex) when (ex is NpgsqlException && !(ex is OperationCanceledException || cancellationToken.IsCancellationRequested))
            {
                throw new DurableStoreException($"PostgreSQL could not {operation} at {Server}: {ex.Message}", ex);
            }
        }
    }

    /// <summary>A broken connection or a server that is shutting down, restarting or overloaded: worth trying again.</summary>
    internal static bool IsTransient(Exception exception) => exception switch
    {
        PostgresException postgres => postgres.IsTransient
            || postgres.SqlState.StartsWith("08", StringComparison.Ordinal)    // connection exception
            || postgres.SqlState.StartsWith("57P", StringComparison.Ordinal)   // admin shutdown, crash shutdown, cannot connect now
            || postgres.SqlState is "40001" or "40P01",                        // serialization failure, deadlock
        NpgsqlException npgsql => npgsql.IsTransient || npgsql.InnerException is IOException or System.Net.Sockets.SocketException or TimeoutException,
        _ => false,
    };

    private static TimeSpan Jitter(TimeSpan delay) => delay * (0.5 + Random.Shared.NextDouble());

    private static TimeSpan Next(TimeSpan delay) => TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, s_maxRetryDelay.Ticks));

    private NpgsqlCommand Command(string sql, params (string Name, object? Value)[] parameters)
    {
        var command = _dataSource.CreateCommand(sql);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    private static NpgsqlBatchCommand BatchCommand(string sql, params (string Name, object? Value)[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    private static DateTimeOffset Utc(DateTimeOffset time) => time.ToUniversalTime();

    private const int RunColumnCount = 18;

    private const int JournalColumnCount = 14;

    private static RunRecord ReadRun(DbDataReader r) => StoredRows.ReadRun(r, ReadTime);

    private static JournalEntry ReadEntry(DbDataReader r) => StoredRows.ReadEntry(r, ReadTime);

    private static DateTimeOffset ReadTime(DbDataReader r, int column) => r.GetFieldValue<DateTimeOffset>(column);

    [LoggerMessage(1, LogLevel.Warning, "PostgreSQL could not {Operation} at {Server} (attempt {Attempt}); retrying in about {Delay}")]
    private static partial void LogRetrying(ILogger logger, string operation, string server, int attempt, TimeSpan delay, Exception exception);

    [LoggerMessage(2, LogLevel.Warning, "The Durably notification listener lost its connection to {Server}; reconnecting in about {Delay} (workers poll meanwhile)")]
    private static partial void LogListenerLost(ILogger logger, string server, TimeSpan delay, Exception exception);
}
