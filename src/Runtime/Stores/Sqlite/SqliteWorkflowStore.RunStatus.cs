using System.Runtime.CompilerServices;
using Durably.Runtime.Journal;
using Microsoft.Data.Sqlite;
using static Durably.Runtime.Stores.SqliteCommands;

namespace Durably.Runtime.Stores;

/// <summary>
/// Runs' statuses and steps' progress (table <c>run_status</c>): a staged status is written in the transaction of the
/// run's next fenced write, before that write; progress has deferred writes of its own.
/// </summary>
public sealed partial class SqliteWorkflowStore : IWorkflowStoreRunStatus
{
    private readonly StagedStatuses _stagedStatuses = new();

    /// <summary>The status write: fenced by the lease's epoch (a run's end keeps it), and a status equal to the stored one writes nothing.</summary>
    private const string WriteStatusSql = """
        INSERT INTO run_status (workflow_id, status_json, status_at)
        SELECT $id, $status, $now WHERE EXISTS (SELECT 1 FROM runs WHERE workflow_id = $id AND epoch = $epoch)
        ON CONFLICT (workflow_id) DO UPDATE SET status_json = excluded.status_json, status_at = excluded.status_at
        WHERE run_status.status_at IS NULL OR run_status.status_json IS NOT excluded.status_json;
        """;

    /// <inheritdoc/>
    public void StageStatus(RunLease lease, string? statusJson) => _stagedStatuses.Stage(lease, statusJson);

    /// <inheritdoc/>
    public Task<bool> WriteProgressAsync(RunLease lease, string progressJson, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(progressJson);
        return WriteAsync(JournalDurability.Deferred, connection => Execute(connection, $"""
            INSERT INTO run_status (workflow_id, progress_json, progress_at)
            SELECT $id, $progress, $now WHERE EXISTS (SELECT 1 FROM runs WHERE {HeldBy})
            ON CONFLICT (workflow_id) DO UPDATE SET progress_json = excluded.progress_json, progress_at = excluded.progress_at;
            """, [.. LeaseParameters(lease), ("$progress", progressJson), ("$now", ToUnixMs(_time.GetUtcNow()))]) == 1, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<RunStatusRecord?> GetRunStatusAsync(string workflowId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workflowId);
        return Read(connection => Query(connection,
            "SELECT status_json, status_at, progress_json, progress_at FROM run_status WHERE workflow_id = $id;",
            r => new RunStatusRecord(workflowId, r.IsDBNull(0) ? null : r.GetString(0), r.IsDBNull(1) ? null : FromUnixMs(r.GetInt64(1)),
                r.IsDBNull(2) ? null : r.GetString(2), r.IsDBNull(3) ? null : FromUnixMs(r.GetInt64(3))),
            ("$id", workflowId)).SingleOrDefault(), cancellationToken);
    }

    /// <summary>
    /// A write fenced by <paramref name="lease"/>: as <see cref="WriteAsync{T}(JournalDurability, Func{SqliteConnection, T}, CancellationToken, string)"/>,
    /// and the status the run staged, if any, is written first in the same transaction.
    /// </summary>
    private Task<T> WriteAsync<T>(RunLease lease, JournalDurability durability, Func<SqliteConnection, T> write, CancellationToken cancellationToken,
        [CallerMemberName] string operation = "")
    {
        ArgumentNullException.ThrowIfNull(lease);
        var staged = _stagedStatuses.Take(lease);
        return _stagedStatuses.Settle(staged, WriteAsync(durability, staged is null ? write : connection =>
        {
            Execute(connection, WriteStatusSql, ("$id", lease.WorkflowId), ("$epoch", lease.Epoch), ("$status", staged.Json), ("$now", ToUnixMs(_time.GetUtcNow())));
            return write(connection);
        }, cancellationToken, operation));
    }
}
