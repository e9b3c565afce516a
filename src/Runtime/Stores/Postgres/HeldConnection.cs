using Npgsql;

namespace Durably.Runtime.Stores;

/// <summary>
/// A connection of the store's pool that one batching queue keeps open for all its batches, instead of borrowing one
/// from the pool for each.
/// </summary>
/// <remarks>
/// Npgsql lends idle connections first in, first out, so calls made one after another each go to the server process
/// that has been idle longest. Its caches have gone cold, and waking it costs more than the statement on a small
/// machine. A queue sends one batch at a time, so the connection is never used by two batches at once. A batch that
/// fails drops the connection, and the next batch opens another. When the pool is small
/// (<see cref="IsWorthHolding"/>), the queues borrow from it as any call does, so that they never starve it.
/// </remarks>
internal sealed class HeldConnection(NpgsqlDataSource dataSource) : IAsyncDisposable
{
    /// <summary>Connections the store's queues may hold at once.</summary>
    public const int MostHeld = 4;

    private readonly Lock _gate = new();
    private NpgsqlConnection? _connection;
    private bool _disposed;

    /// <summary>
    /// Whether the pool behind <paramref name="dataSource"/> leaves room for <see cref="MostHeld"/> held connections
    /// beside the calls that borrow: pooling on, and at least four times as many connections allowed.
    /// </summary>
    public static bool IsWorthHolding(NpgsqlDataSource dataSource)
        => new NpgsqlConnectionStringBuilder(dataSource.ConnectionString) is { Pooling: true } settings && settings.MaxPoolSize >= 4 * MostHeld;

    /// <summary>Sends <paramref name="send"/>'s batch on the held connection, opening one first if none is open.</summary>
    public async Task<T> SendAsync<T>(Func<NpgsqlBatch, Task<T>> send)
    {
        var connection = _connection ?? await OpenAsync().ConfigureAwait(false);
        try
        {
            await using var batch = new NpgsqlBatch(connection);
            return await send(batch).ConfigureAwait(false);
        }
        catch
        {
            // Whatever failed, the connection may be broken or mid-transaction: it is not used again.
            lock (_gate)
            {
                if (ReferenceEquals(_connection, connection))
                {
                    _connection = null;
                }
            }

            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task<NpgsqlConnection> OpenAsync()
    {
        var opened = await dataSource.OpenConnectionAsync().ConfigureAwait(false);
        lock (_gate)
        {
            if (!_disposed)
            {
                _connection = opened;
                return opened;
            }
        }

        await opened.DisposeAsync().ConfigureAwait(false);
        throw new ObjectDisposedException(nameof(PostgresWorkflowStore));
    }

    /// <summary>Closes the held connection (back to the pool); a batch still in flight finishes on it first.</summary>
    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection? connection;
        lock (_gate)
        {
            _disposed = true;
            connection = _connection;
            _connection = null;
        }

        if (connection is not null)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }
}
