using Durably.Runtime;

namespace Durably.Testing;

/// <summary>How a <see cref="DurableTestHost"/> is set up: its store, its default timeout and its worker's name.</summary>
public sealed class DurableTestHostOptions
{
    private Action<DurableOptions>? _store;
    private Action<DurableOptions>? _engine;

    /// <summary>How long <see cref="DurableTestHost.WaitForResultAsync{TOutput}"/> waits when the call does not say: 10 s by default.</summary>
    public TimeSpan DefaultTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Whether the host moves its <see cref="VirtualTime"/> by itself while the test waits for a result: when no step body
    /// runs and every run waits for a time or an event, the clock jumps to the earliest due time — a 30-day sleep, a
    /// retry's backoff, a signal's timeout pass at once. On by default; off, time moves only with
    /// <see cref="VirtualTime.Advance"/> (see also <see cref="DurableTestHost.AutoSkipTime"/>).
    /// </summary>
    public bool AutoSkipTime { get; set; } = true;

    /// <summary>What the host's clock shows when it starts: 2030-01-01 00:00 UTC by default, the same in every run of a test.</summary>
    public DateTimeOffset StartTime { get; set; } = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The worker's name, as runs and logs show it: <c>durably-test-host</c> by default.</summary>
    public string WorkerName { get; set; } = "durably-test-host";

    /// <summary>Runs the host on a SQLite file instead of the in-memory store: the journal as production writes it.</summary>
    /// <param name="path">The database file; created when missing.</param>
    /// <returns>These options.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null, empty or blank.</exception>
    public DurableTestHostOptions UseSqlite(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        _store = options => options.UseSqlite(path);
        return this;
    }

    /// <summary>Runs the host on a PostgreSQL database instead of the in-memory store.</summary>
    /// <param name="connectionString">An Npgsql connection string.</param>
    /// <returns>These options.</returns>
    /// <exception cref="ArgumentException"><paramref name="connectionString"/> is null, empty or blank.</exception>
    public DurableTestHostOptions UsePostgres(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        _store = options => options.UsePostgres(connectionString);
        return this;
    }

    /// <summary>
    /// Sets engine options for the test — circuit breakers, an unload threshold, a default retry policy — applied after
    /// the host's own (the store, and poll intervals long enough not to stop time from skipping).
    /// </summary>
    /// <param name="configure">Changes the engine's <see cref="DurableOptions"/>.</param>
    /// <returns>These options.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="configure"/> is null.</exception>
    public DurableTestHostOptions ConfigureEngine(Action<DurableOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        _engine += configure;
        return this;
    }

    /// <summary>Sets the store: the one chosen, or <paramref name="inMemory"/> — the host's own, kept across restarts.</summary>
    internal void ApplyStore(DurableOptions options, Durably.Runtime.Journal.IWorkflowStore inMemory)
    {
        if (_store is { } store)
        {
            store(options);
        }
        else
        {
            options.StoreFactory = _ => inMemory;
        }
    }

    internal void ApplyEngine(DurableOptions options) => _engine?.Invoke(options);

    internal void Validate()
    {
        CheckTimeout(DefaultTimeout, nameof(DefaultTimeout));
        if (string.IsNullOrWhiteSpace(WorkerName))
        {
            throw new ArgumentException($"{nameof(WorkerName)} must not be empty or blank; it was '{WorkerName}'.", nameof(WorkerName));
        }
    }

    internal static void CheckTimeout(TimeSpan timeout, string name)
    {
        // CancelAfter takes at most about 49.7 days; a test that waits that long is a mistake too.
        if (timeout <= TimeSpan.Zero || timeout > TimeSpan.FromDays(1))
        {
            throw new ArgumentOutOfRangeException(name, timeout, $"A test's timeout is more than zero and at most one day; it was {timeout}.");
        }
    }
}
