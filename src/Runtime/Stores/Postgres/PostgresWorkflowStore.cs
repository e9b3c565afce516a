using System.Collections.Concurrent;
using System.Data.Common;
using Durably.Runtime.Journal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Durably.Runtime.Stores;

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
/// A start wakes idle workers through <c>LISTEN/NOTIFY</c> (never a step), and a run's end wakes the callers that watch
/// it from other processes (<see cref="IWorkflowStoreWatches"/>) — an end nobody watches sends nothing; polling stays
/// the fallback. Calls that fail because the connection broke or the server is restarting are retried with
/// exponential backoff and jitter for <see cref="PostgresStoreOptions.RetryBudget"/>.
/// </para>
/// </remarks>
public sealed partial class PostgresWorkflowStore : IWorkflowStore, ITransactionalStepStore, IWorkflowStoreEvents, IWorkflowStoreWatches, IAsyncDisposable, IDisposable
{
    /// <summary>The schema version this code creates and reads.</summary>
    public const int SchemaVersion = PostgresSchema.Version;

    /// <summary>How many statements each connection prepares automatically when the connection string does not say.</summary>
    public const int AutoPreparedStatements = 32;

    private readonly NpgsqlDataSource _dataSource;
    private readonly NpgsqlDataSource _stepDataSource;
    private readonly bool _ownsDataSource;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _schema;
    private readonly string _channel;
    private readonly PostgresRetry _retry;
    private readonly PostgresNotificationListener _listener;
    private readonly ConcurrentDictionary<string, Guid> _incarnations = new(StringComparer.Ordinal);
    private readonly PostgresStatements _sql;
    private bool _disposed;

    private PostgresWorkflowStore(NpgsqlDataSource dataSource, NpgsqlDataSource? stepDataSource, bool ownsDataSource, PostgresStoreOptions options, TimeProvider time, ILogger? logger)
    {
        _dataSource = dataSource;
        _stepDataSource = stepDataSource ?? dataSource;
        _ownsDataSource = ownsDataSource;
        _time = time;
        _logger = logger ?? NullLogger.Instance;
        _schema = options.Schema;
        _channel = options.Schema + "_events";
        _sql = new PostgresStatements(Quote(options.Schema));
        Server = Describe(dataSource.ConnectionString);
        _retry = new PostgresRetry(_logger, Server, options.RetryBudget);
        _listener = new PostgresNotificationListener(dataSource, _channel, _logger, Server);
        // The batching queues each keep a connection open for their batches, when the pool has room for them.
        var hold = HeldConnection.IsWorthHolding(dataSource);
        (_createsConnection, _earlyCreatesConnection) = hold ? (new HeldConnection(dataSource), new HeldConnection(dataSource)) : (null, null);
        (_durableWrites, _deferredWrites) = (new(hold ? new HeldConnection(dataSource) : null), new(hold ? new HeldConnection(dataSource) : null));
        _creates = new(runs => CreateRunsAsync(runs, deferred: false), MaxCreatesPerBatch);
        _earlyCreates = new(runs => CreateRunsAsync(runs, deferred: true), MaxCreatesPerBatch);
    }

    /// <summary>Where the store lives, for messages: host, port, database and user — never the password.</summary>
    public string Server { get; }

    /// <summary>The schema holding Durably's tables.</summary>
    public string Schema => _schema;

    /// <summary>How many times the notification listener has connected (and so re-listened after a lost connection).</summary>
    public int ListenerConnections => _listener.Connections;

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
        NpgsqlDataSource stepDataSource;
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

            // Transactional steps run the application's SQL: their connections are reset when they go back to the pool.
            stepDataSource = NpgsqlDataSource.Create(builder.ConnectionString);
            // The store's own statements leave no session state behind (their settings are transaction-local), so its
            // connections skip Npgsql's reset — seven statements each time a pooled connection is reused.
            builder.NoResetOnClose = true;
            dataSource = NpgsqlDataSource.Create(builder);
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"The PostgreSQL connection string is invalid: {ex.Message}", nameof(connectionString), ex);
        }

        return Open(dataSource, stepDataSource, ownsDataSource: true, options, timeProvider, logger);
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
        return Open(dataSource, null, ownsDataSource: false, options, timeProvider, logger);
    }

    private static PostgresWorkflowStore Open(NpgsqlDataSource dataSource, NpgsqlDataSource? stepDataSource, bool ownsDataSource, PostgresStoreOptions? options, TimeProvider? timeProvider, ILogger? logger)
    {
        options ??= new PostgresStoreOptions();
        try
        {
            options.Validate();
        }
        catch when (ownsDataSource)
        {
            dataSource.Dispose();
            stepDataSource?.Dispose();
            throw;
        }

        var store = new PostgresWorkflowStore(dataSource, stepDataSource, ownsDataSource, options, timeProvider ?? TimeProvider.System, logger);
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
            _listener.RunsAvailable += value;
            _listener.EnsureListening();
        }

        remove => _listener.RunsAvailable -= value;
    }

    /// <inheritdoc/>
    public event Action<string?>? RunFinished
    {
        add
        {
            _listener.RunFinished += value;
            _listener.EnsureListening();
        }

        remove => _listener.RunFinished -= value;
    }

    /// <inheritdoc/>
    public event Action<string?>? RunSignalled
    {
        add
        {
            _listener.RunSignalled += value;
            _listener.EnsureListening();
        }

        remove => _listener.RunSignalled -= value;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await StopLookingAsync().ConfigureAwait(false);
        await _listener.DisposeAsync().ConfigureAwait(false);
        foreach (var held in (HeldConnection?[])[_durableWrites.Connection, _deferredWrites.Connection, _createsConnection, _earlyCreatesConnection])
        {
            if (held is not null)
            {
                await held.DisposeAsync().ConfigureAwait(false);
            }
        }

        if (_ownsDataSource)
        {
            await _dataSource.DisposeAsync().ConfigureAwait(false);
            if (!ReferenceEquals(_stepDataSource, _dataSource))
            {
                await _stepDataSource.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc/>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Runs one store call under the store's transient-failure policy (<see cref="PostgresRetry"/>).</summary>
    /// <remarks>Counted: every thousand calls, the store looks at its tables' statistics (see <see cref="CountCall"/>).</remarks>
    private Task<T> ExecuteAsync<T>(string operation, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        CountCall();
        return _retry.ExecuteAsync(operation, call, cancellationToken);
    }

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

    private const int RunColumnCount = 20;

    private const int JournalColumnCount = 14;

    private static RunRecord ReadRun(DbDataReader r) => StoredRows.ReadRun(r, ReadTime);

    private static JournalEntry ReadEntry(DbDataReader r) => StoredRows.ReadEntry(r, ReadTime);

    private static DateTimeOffset ReadTime(DbDataReader r, int column) => r.GetFieldValue<DateTimeOffset>(column);
}
