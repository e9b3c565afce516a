using Durably.Runtime;

namespace Durably.Testing;

/// <summary>How a <see cref="DurableTestHost"/> is set up: its store, its default timeout and its worker's name.</summary>
public sealed class DurableTestHostOptions
{
    private Action<DurableOptions> _store = static options => options.UseInMemoryStore();

    /// <summary>How long <see cref="DurableTestHost.WaitForResultAsync{TOutput}"/> waits when the call does not say: 10 s by default.</summary>
    public TimeSpan DefaultTimeout { get; set; } = TimeSpan.FromSeconds(10);

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

    internal void ApplyStore(DurableOptions options) => _store(options);

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
