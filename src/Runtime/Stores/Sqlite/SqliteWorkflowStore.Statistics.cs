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

    private static RunCount ReadCount(System.Data.Common.DbDataReader reader)
        => new(reader.GetString(0), (WorkflowStatus)reader.GetInt32(1), reader.GetInt64(2));
}
