using Microsoft.Extensions.Logging;
using Npgsql;

namespace Durably.Runtime.Stores;

/// <summary>
/// Keeps the planner's statistics of the runs and journal tables in step with their size while they grow fast.
/// </summary>
/// <remarks>
/// <para>
/// The store's statements are prepared, and PostgreSQL keeps a prepared statement's plan until the statistics of its
/// tables change. A plan made while a table held a few rows reads the whole table (a sequential scan, or every entry of
/// the active runs' index), and it stays in use while the table grows by thousands of rows a second — a step's fenced
/// write then costs time in proportion to the number of runs, until autovacuum next analyzes the table (up to a
/// minute, on its default schedule). This is the common case of a new database under load.
/// </para>
/// <para>
/// So the store looks, every <see cref="CallsBetweenLooks"/> calls, at how much each table has changed since its
/// statistics were taken (by the server's counters, or by the rows this store wrote itself, which those counters show
/// up to a second late). A table changed by more than its rows at that time (plus <see cref="ChangesFloor"/>) may
/// have doubled: the store analyzes it (<c>ANALYZE (SKIP_LOCKED)</c>: it never waits for a lock) — only a table its
/// user owns (directly or through a role), so a store that only reads and writes the tables leaves them to autovacuum
/// and fills no log with the server's warnings. An analysis also makes every session plan its statements anew — by
/// primary key. Growth that autovacuum keeps up with never crosses that line, so a settled database sees no
/// extra work beyond one small query per thousand calls.
/// </para>
/// </remarks>
public sealed partial class PostgresWorkflowStore
{
    /// <summary>Store calls between two looks at the tables' statistics.</summary>
    private const int CallsBetweenLooks = 1_000;

    /// <summary>Changes since the last statistics below which a table is left alone, however small.</summary>
    private const int ChangesFloor = 500;

    /// <summary>The least time between two analyses by this store.</summary>
    private static readonly TimeSpan s_analyzeSpacing = TimeSpan.FromSeconds(10);

    private readonly CancellationTokenSource _closing = new();
    private int _callsSinceLook;
    private int _looking;
    private long _lastAnalyzeTicks = long.MinValue;
    private Task _look = Task.CompletedTask;
    private string? _staleTables;
    private long _runsWritten;
    private long _journalWritten;

    /// <summary>Counts rows this store wrote to the runs table (<paramref name="runs"/>) or the journal, for the next look.</summary>
    private void CountWritten(bool runs, int rows) => _ = runs ? Interlocked.Add(ref _runsWritten, rows) : Interlocked.Add(ref _journalWritten, rows);

    /// <summary>How many times this store has analyzed its tables (for tests and diagnostics).</summary>
    internal int Analyses { get; private set; }

    /// <summary>Counts a store call; every <see cref="CallsBetweenLooks"/> calls, starts a look at the tables' statistics in the background.</summary>
    private void CountCall()
    {
        if (Interlocked.Increment(ref _callsSinceLook) < CallsBetweenLooks || Interlocked.Exchange(ref _looking, 1) == 1)
        {
            return;
        }

        Volatile.Write(ref _callsSinceLook, 0);
        if (_closing.IsCancellationRequested
            || (Volatile.Read(ref _lastAnalyzeTicks) is var last && last != long.MinValue && _time.GetElapsedTime(last) < s_analyzeSpacing))
        {
            Volatile.Write(ref _looking, 0);
            return;
        }

        _look = Task.Run(LookAtStatisticsAsync);
    }

    /// <summary>Analyzes the tables that changed by more than their size at their last statistics.</summary>
    private async Task LookAtStatisticsAsync()
    {
        var token = _closing.Token;
        try
        {
            // The server's counters of changes lag (a busy session reports them once a second): the rows this store
            // itself wrote since it last analyzed count too, so a burst that ends between two reports is not missed.
            var (runsWritten, journalWritten) = (Volatile.Read(ref _runsWritten), Volatile.Read(ref _journalWritten));
            var stale = new List<(string Table, string Name)>();
            await using (var command = Command(_staleTables ??= $"""
                SELECT format('%I.%I', s.schemaname, s.relname), s.relname
                FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
                WHERE s.schemaname = @schema AND s.relname IN ('runs', 'journal')
                    AND greatest(s.n_mod_since_analyze, CASE s.relname WHEN 'runs' THEN @runs_written ELSE @journal_written END)
                        > greatest(c.reltuples, 0) + {ChangesFloor}
                    AND pg_has_role(c.relowner, 'USAGE')
                """, ("schema", _schema), ("runs_written", runsWritten), ("journal_written", journalWritten)))
            await using (var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(token).ConfigureAwait(false))
                {
                    stale.Add((reader.GetString(0), reader.GetString(1)));
                }
            }

            foreach (var (table, name) in stale)
            {
                await using var analyze = Command($"ANALYZE (SKIP_LOCKED) {table}");
                await analyze.ExecuteNonQueryAsync(token).ConfigureAwait(false);
                Analyses++;
                Volatile.Write(ref _lastAnalyzeTicks, _time.GetTimestamp());
                _ = name == "runs" ? Interlocked.Add(ref _runsWritten, -runsWritten) : Interlocked.Add(ref _journalWritten, -journalWritten);
            }
        }
        catch (Exception ex) when (token.IsCancellationRequested && ex is OperationCanceledException or NpgsqlException or ObjectDisposedException)
        {
            // The store is closing: the look is abandoned with it.
        }
        catch (Exception ex)
        {
            // Only the plans' speed depends on it: the store works on, and tries again a thousand calls later.
            LogStatisticsFailed(_logger, Server, ex);
        }
        finally
        {
            Volatile.Write(ref _looking, 0);
        }
    }

    /// <summary>Stops a look under way and waits for it, as the store closes.</summary>
    private async Task StopLookingAsync()
    {
        await _closing.CancelAsync().ConfigureAwait(false);
        await _look.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _closing.Dispose();
    }

    [LoggerMessage(3, LogLevel.Warning, "Durably could not refresh the planner statistics of its tables at {Server}; it tries again later")]
    private static partial void LogStatisticsFailed(ILogger logger, string server, Exception exception);
}
