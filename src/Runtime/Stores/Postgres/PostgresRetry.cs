using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Durably.Runtime.Stores;

/// <summary>
/// The PostgreSQL store's transient-failure policy: a call that failed because the connection broke or the server is
/// shutting down, restarting or overloaded is tried again with exponential backoff and jitter while
/// <see cref="PostgresStoreOptions.RetryBudget"/> lasts; a statement's own error is reported at once, as a
/// <see cref="DurableStoreException"/> naming the operation and the server.
/// </summary>
internal sealed partial class PostgresRetry(ILogger logger, string server, TimeSpan budget)
{
    /// <summary>The first pause after a transient failure.</summary>
    public static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(50);

    /// <summary>The longest pause; each one doubles up to it.</summary>
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Runs one store call, retrying it while the failure is the connection's or the server's and the budget lasts.
    /// Every statement is safe to repeat: writes are idempotent or checked against the lease.
    /// </summary>
    /// <param name="operation">What the call does, for messages ("claim a run").</param>
    /// <param name="call">The call.</param>
    /// <param name="cancellationToken">Stops the call and its retries.</param>
    public async Task<T> ExecuteAsync<T>(string operation, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var delay = FirstDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsTransient(ex) && !cancellationToken.IsCancellationRequested && Stopwatch.GetElapsedTime(started) < budget)
            {
                LogRetrying(logger, operation, server, attempt, delay, ex);
                await Task.Delay(Jitter(delay), cancellationToken).ConfigureAwait(false);
                delay = Next(delay);
            }
            catch (Exception ex) when (ex is NpgsqlException && !(ex is OperationCanceledException || cancellationToken.IsCancellationRequested))
            {
                throw new DurableStoreException($"PostgreSQL could not {operation} at {server}: {Explain((NpgsqlException)ex)}", Classify(ex), ex);
            }
            catch (System.Text.EncoderFallbackException ex)
            {
                // Npgsql encodes every value before it sends anything: nothing was written.
                throw new DurableStoreException(
                    $"PostgreSQL could not {operation} at {server}: a value holds text with no UTF-8 form, such as a lone UTF-16 surrogate ({ex.Message}). Nothing was written.",
                    StoreFault.Fatal, ex);
            }
        }
    }

    /// <summary>A broken connection or a server that is shutting down, restarting or overloaded: worth trying again.</summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        PostgresException postgres => postgres.IsTransient
            || postgres.SqlState.StartsWith("08", StringComparison.Ordinal)    // connection exception
            || postgres.SqlState.StartsWith("57P", StringComparison.Ordinal)   // admin shutdown, crash shutdown, cannot connect now
            || postgres.SqlState is "40001" or "40P01",                        // serialization failure, deadlock
        NpgsqlException npgsql => npgsql.IsTransient || npgsql.InnerException is IOException or System.Net.Sockets.SocketException or TimeoutException,
        _ => false,
    };

    /// <summary>The <see cref="StoreFault"/> a PostgreSQL or Npgsql error stands for, by SQLSTATE where the server sent one.</summary>
    public static StoreFault Classify(Exception exception) => exception switch
    {
        PostgresException { SqlState: "53100" } => StoreFault.Full,                                          // disk_full
        PostgresException { SqlState: "25006" } => StoreFault.ReadOnly,                                      // read_only_sql_transaction (a standby)
        PostgresException { SqlState: "55P03" or "40P01" } => StoreFault.Locked,                              // lock_not_available, deadlock
        PostgresException postgres when postgres.SqlState.StartsWith("53", StringComparison.Ordinal) => StoreFault.Transient, // out of memory, too many connections
        PostgresException { SqlState: "57014" } => StoreFault.Transient,                                      // statement timeout
        _ when IsTransient(exception) => StoreFault.Transient,
        _ => StoreFault.Fatal,
    };

    /// <summary>The failure and, for a failure to connect, its cause (Npgsql's own message only says it failed).</summary>
    public static string Explain(NpgsqlException exception)
        => exception is not PostgresException && exception.InnerException is { } inner ? $"{exception.Message} ({inner.Message})" : exception.Message;

    /// <summary>Half to one and a half times <paramref name="delay"/>, so that workers that failed together retry apart.</summary>
    public static TimeSpan Jitter(TimeSpan delay) => delay * (0.5 + Random.Shared.NextDouble());

    /// <summary>The pause after <paramref name="delay"/>: twice as long, up to <see cref="MaxDelay"/>.</summary>
    public static TimeSpan Next(TimeSpan delay) => TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxDelay.Ticks));

    // Debug, not Warning: a worker that keeps failing reports the outage itself, once, then a summary per interval.
    [LoggerMessage(1, LogLevel.Debug, "PostgreSQL could not {Operation} at {Server} (attempt {Attempt}); retrying in about {Delay}")]
    private static partial void LogRetrying(ILogger logger, string operation, string server, int attempt, TimeSpan delay, Exception exception);
}
