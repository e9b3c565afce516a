using Microsoft.Extensions.Logging;
using Npgsql;

namespace Durably.Runtime.Stores;

/// <summary>
/// Holds one connection that <c>LISTEN</c>s on the store's channel and turns its notifications — runs available, a run
/// finished, a run signalled — into the store's events. Started by the first subscriber; reconnects with backoff when
/// the connection drops, and then raises every event once (whatever happened while nobody listened), since workers and
/// waiting callers poll only as a fallback.
/// </summary>
internal sealed partial class PostgresNotificationListener(NpgsqlDataSource dataSource, string channel, ILogger logger, string server) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private Task? _listening;

    /// <summary>A run was started, released or became due.</summary>
    public Action? RunsAvailable { get; set; }

    /// <summary>A run finished (its id), or anything may have (null, after a reconnect).</summary>
    public Action<string?>? RunFinished { get; set; }

    /// <summary>A run was signalled or cancelled (its id), or any may have been (null, after a reconnect).</summary>
    public Action<string?>? RunSignalled { get; set; }

    /// <summary>How many times it has connected (and so re-listened after a lost connection).</summary>
    public int Connections { get; private set; }

    /// <summary>Starts listening, once; nothing after disposal.</summary>
    public void EnsureListening()
    {
        lock (_gate)
        {
            if (_listening is null && !_stopping.IsCancellationRequested)
            {
                _listening = Task.Run(() => ListenAsync(_stopping.Token));
            }
        }
    }

    /// <summary>Stops listening and closes the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_listening is { } listening)
        {
            await listening.ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    private async Task ListenAsync(CancellationToken cancellationToken)
    {
        var delay = PostgresRetry.FirstDelay;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                connection.Notification += OnNotification;
                await using (var listen = new NpgsqlCommand($"LISTEN {PostgresWorkflowStore.Quote(channel)}", connection))
                {
                    await listen.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                Connections++;
                delay = PostgresRetry.FirstDelay;

                // Whatever happened while nobody listened: let idle workers and waiting callers look now.
                RunsAvailable?.Invoke();
                RunFinished?.Invoke(null);
                RunSignalled?.Invoke(null);
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
                LogListenerLost(logger, server, delay, ex);
                try
                {
                    await Task.Delay(PostgresRetry.Jitter(delay), cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                delay = PostgresRetry.Next(delay);
            }
        }
    }

    private void OnNotification(object sender, NpgsqlNotificationEventArgs e)
    {
        if (e.Payload == PostgresSchema.RunsAvailablePayload)
        {
            RunsAvailable?.Invoke();
        }
        else if (e.Payload.StartsWith(PostgresSchema.RunFinishedPrefix, StringComparison.Ordinal))
        {
            var id = e.Payload[PostgresSchema.RunFinishedPrefix.Length..];
            RunFinished?.Invoke(id.Length == 0 ? null : id);
        }
        else if (e.Payload.StartsWith(PostgresSchema.RunSignalledPrefix, StringComparison.Ordinal))
        {
            var id = e.Payload[PostgresSchema.RunSignalledPrefix.Length..];
            RunSignalled?.Invoke(id.Length == 0 ? null : id);
        }
    }

    [LoggerMessage(2, LogLevel.Warning, "The Durably notification listener lost its connection to {Server}; reconnecting in about {Delay} (workers poll meanwhile)")]
    private static partial void LogListenerLost(ILogger logger, string server, TimeSpan delay, Exception exception);
}
