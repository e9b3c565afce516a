using Durably.Runtime.Journal;
using static Durably.Runtime.Stores.SqliteCommands;

namespace Durably.Runtime.Stores;

/// <summary>Purging ended runs, oldest first, through the runs_finished index; one write transaction per batch.</summary>
public sealed partial class SqliteWorkflowStore : IWorkflowStoreRetention
{
    /// <inheritdoc/>
    public Task<IReadOnlyList<string>> PurgeRunsAsync(RunPurgeQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var statuses = string.Join(", ", RunPurgeQuery.PurgedStatuses.Select(s => (int)s));
        return WriteAsync<IReadOnlyList<string>>(connection =>
        {
            var ids = Query(connection,
                $"SELECT workflow_id FROM runs INDEXED BY runs_finished WHERE status <> 0 AND status IN ({statuses}) AND updated_at < $before AND ($name IS NULL OR workflow_name = $name) ORDER BY updated_at LIMIT $limit;",
                r => r.GetString(0), ("$before", ToUnixMs(query.EndedBefore)), ("$name", query.WorkflowName), ("$limit", query.Limit));
            foreach (var id in ids)
            {
                Execute(connection, "DELETE FROM run_children WHERE child_id = $id OR parent_id = $id;", ("$id", id));
                foreach (var table in new[] { "journal", "signals", "operator_actions", "run_status", "runs" })
                {
                    Execute(connection, $"DELETE FROM {table} WHERE workflow_id = $id;", ("$id", id));
                }
            }

            return ids;
        }, cancellationToken);
    }
}
