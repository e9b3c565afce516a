using Durably.Runtime.Journal;
using static Durably.Runtime.Stores.SqliteCommands;

namespace Durably.Runtime.Stores;

/// <summary>Counts for operators, from the status indexes (runs_by_status_workflow, runs_finished).</summary>
public sealed partial class SqliteWorkflowStore : IWorkflowStoreStatistics
{
    /// <inheritdoc/>
    public Task<IReadOnlyList<RunCount>> CountRunsAsync(DateTimeOffset? finishedSince, CancellationToken cancellationToken)
        => Read<IReadOnlyList<RunCount>>(connection => finishedSince is { } since
            ? Query(connection,
                "SELECT workflow_name, status, count(*) FROM runs INDEXED BY runs_finished WHERE status <> 0 AND updated_at >= $since GROUP BY status, workflow_name ORDER BY status, workflow_name;",
                ReadCount, ("$since", since.ToUnixTimeMilliseconds()))
            : Query(connection,
                "SELECT workflow_name, status, count(*) FROM runs GROUP BY status, workflow_name ORDER BY status, workflow_name;",
                ReadCount), cancellationToken);

    /// <inheritdoc/>
    public Task<IReadOnlyList<WorkerRecord>> ListWorkersAsync(CancellationToken cancellationToken)
        => Read<IReadOnlyList<WorkerRecord>>(connection => Query(connection, """
            SELECT w.name, w.workflows, w.expires_at, count(r.workflow_id), max(r.lease_expires_at)
            FROM workers w LEFT JOIN runs r ON r.owner = w.name AND r.status = 0
            GROUP BY w.name ORDER BY w.name;
            """, reader => new WorkerRecord(
                reader.GetString(0),
                [.. (System.Text.Json.JsonSerializer.Deserialize<string[]>(reader.GetString(1)) ?? []).Select(WorkerRecord.ParseVersion)],
                reader.GetInt64(2) == 0 ? null : FromUnixMs(reader.GetInt64(2)),
                null,
                reader.IsDBNull(4) ? null : FromUnixMs(reader.GetInt64(4)),
                reader.GetInt64(3))), cancellationToken);

    private static RunCount ReadCount(System.Data.Common.DbDataReader reader)
        => new(reader.GetString(0), (WorkflowStatus)reader.GetInt32(1), reader.GetInt64(2));
}
