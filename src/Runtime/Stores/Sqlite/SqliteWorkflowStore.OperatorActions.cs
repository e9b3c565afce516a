using Durably.Runtime.Journal;
using static Durably.Runtime.Stores.SqliteCommands;

namespace Durably.Runtime.Stores;

/// <summary>The operators' trail: table operator_actions, read newest first through its (workflow_id, id) index.</summary>
public sealed partial class SqliteWorkflowStore : IOperatorActionLog
{
    /// <inheritdoc/>
    public Task RecordOperatorActionAsync(OperatorActionRecord action, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(action);
        return WriteAsync(connection => Execute(connection,
            "INSERT INTO operator_actions (workflow_id, action, actor, reason, at) VALUES ($id, $action, $actor, $reason, $at);",
            ("$id", action.WorkflowId), ("$action", action.Action), ("$actor", action.Actor), ("$reason", action.Reason), ("$at", ToUnixMs(action.At))), cancellationToken);
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<OperatorActionRecord>> ListOperatorActionsAsync(string workflowId, int limit, CancellationToken cancellationToken)
        => Read<IReadOnlyList<OperatorActionRecord>>(connection => Query(connection,
            "SELECT workflow_id, action, actor, reason, at FROM operator_actions WHERE workflow_id = $id ORDER BY id DESC LIMIT $limit;",
            r => new OperatorActionRecord(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), FromUnixMs(r.GetInt64(4))),
            ("$id", workflowId), ("$limit", limit)), cancellationToken);
}
