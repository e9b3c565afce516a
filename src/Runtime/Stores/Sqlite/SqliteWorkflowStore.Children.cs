using Durably.Runtime.Journal;
using Microsoft.Data.Sqlite;
using static Durably.Runtime.Stores.SqliteCommands;
using static Durably.Runtime.Stores.SqliteSchema;

namespace Durably.Runtime.Stores;

/// <summary>Child runs: table run_children links each to its parent; a child's end wakes an unloaded parent in the same write.</summary>
public sealed partial class SqliteWorkflowStore : IWorkflowStoreChildren
{
    /// <inheritdoc/>
    public Task<(RunRecord Run, bool Created)> CreateChildRunAsync(RunRecord child, ChildLink link, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(child);
        ArgumentNullException.ThrowIfNull(link);
        return WriteAsync(connection =>
        {
            var inserted = Execute(connection,
                $"INSERT INTO runs ({RunColumns}) VALUES ($id, $name, $version, $input, $status, $output, $error_type, $error_message, $owner, $epoch, $lease, $created, $updated, $wake, $generation, $cancel_reason, $failed_sequence, $instance_key, $fingerprint, $seed) ON CONFLICT (workflow_id) DO NOTHING;",
                RunParameters(child)) == 1;
            if (inserted)
            {
                Execute(connection, "INSERT INTO run_children (child_id, parent_id, parent_sequence, abandon) VALUES ($child, $parent, $sequence, $abandon);",
                    ("$child", child.WorkflowId), ("$parent", link.ParentId), ("$sequence", link.ParentSequence), ("$abandon", link.AbandonOnParentCancel));
                // A parent cancelled meanwhile: the child starts cancelled, as if it had been there when the cancel came.
                if (!link.AbandonOnParentCancel && ReadRun(connection, link.ParentId)?.CancelReason is { } reason)
                {
                    Execute(connection, "UPDATE runs SET cancel_reason = $reason WHERE workflow_id = $id AND status = 0 AND cancel_reason IS NULL;",
                        ("$id", child.WorkflowId), ("$reason", ChildLink.CancelReasonOf(link.ParentId, reason)));
                }
            }

            return (ReadRun(connection, child.WorkflowId)!, inserted);
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<ChildLink?> GetParentAsync(string childId, CancellationToken cancellationToken)
        => Read(connection => Query(connection, "SELECT child_id, parent_id, parent_sequence, abandon FROM run_children WHERE child_id = $id;", ReadLink, ("$id", childId)).SingleOrDefault(),
            cancellationToken);

    /// <inheritdoc/>
    public Task<IReadOnlyList<ChildLink>> GetParentsAsync(IReadOnlyCollection<string> childIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(childIds);
        return Read<IReadOnlyList<ChildLink>>(connection => childIds.Count == 0 ? [] : Query(connection,
            "SELECT child_id, parent_id, parent_sequence, abandon FROM run_children WHERE child_id IN (SELECT value FROM json_each($ids));", ReadLink,
            ("$ids", System.Text.Json.JsonSerializer.Serialize(childIds))), cancellationToken);
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<ChildLink>> ListChildrenAsync(string parentId, CancellationToken cancellationToken)
        => Read<IReadOnlyList<ChildLink>>(connection => Query(connection,
            "SELECT child_id, parent_id, parent_sequence, abandon FROM run_children WHERE parent_id = $id ORDER BY parent_sequence, child_id;", ReadLink, ("$id", parentId)), cancellationToken);

    /// <summary>
    /// After a run ended in this write: wakes its parent if it is unloaded waiting (a dead letter does not), and hands
    /// the link of a run that continued as new to the run that carries on.
    /// </summary>
    private static void TellParent(SqliteConnection connection, string workflowId, WorkflowStatus status, string? continuation)
    {
        if (ChildLink.WakingStatuses.Contains(status))
        {
            Execute(connection, "UPDATE runs SET wake_at = NULL WHERE workflow_id = (SELECT parent_id FROM run_children WHERE child_id = $id) AND status = 0 AND wake_at IS NOT NULL;",
                ("$id", workflowId));
        }
        else if (continuation is not null)
        {
            Execute(connection, "INSERT INTO run_children (child_id, parent_id, parent_sequence, abandon) SELECT $next, parent_id, parent_sequence, abandon FROM run_children WHERE child_id = $id;",
                ("$next", continuation), ("$id", workflowId));
        }
    }

    /// <summary>
    /// Whether a child that one of the run's journal rows still awaits has ended: such a run must not unload (the end
    /// came before the unload, so it will not wake it). One writer at a time makes the look and the unload atomic.
    /// </summary>
    private static bool AwaitedChildEnded(SqliteConnection connection, string workflowId)
        => Query(connection, $"""
            SELECT 1 FROM run_children c
            JOIN runs child ON child.workflow_id = c.child_id
            JOIN journal j ON j.workflow_id = c.parent_id AND j.sequence = c.parent_sequence
            WHERE c.parent_id = $id AND child.status IN ({WakingStatusList}) AND j.state = {(int)JournalEntryState.Attempting} LIMIT 1;
            """, r => r.GetInt64(0), ("$id", workflowId)).Count == 1;

    private static readonly string WakingStatusList = string.Join(", ", ChildLink.WakingStatuses.Select(s => (int)s));

    /// <inheritdoc/>
    public Task<RunRecord?> RollBackChildAsync(string childId, string reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(childId);
        ArgumentNullException.ThrowIfNull(reason);
        return WriteAsync(connection =>
        {
            var now = ToUnixMs(_time.GetUtcNow());
            var reopened = Execute(connection, $"""
                UPDATE runs SET status = 0, output_json = NULL, owner = NULL, lease_expires_at = NULL, wake_at = NULL, cancel_reason = $reason, updated_at = $now
                WHERE workflow_id = $id AND status = {(int)WorkflowStatus.Completed};
                """, ("$id", childId), ("$reason", reason), ("$now", now)) == 1;
            if (!reopened && Execute(connection,
                "UPDATE runs SET cancel_reason = $reason, wake_at = NULL, updated_at = $now WHERE workflow_id = $id AND status = 0 AND cancel_reason IS NULL;",
                ("$id", childId), ("$reason", reason), ("$now", now)) == 1)
            {
                CancelDescendants(connection, childId, reason);
            }

            return ReadRun(connection, childId);
        }, cancellationToken);
    }

    /// <summary>A parent's cancel reaches its children and theirs (cascade): each running one is asked to cancel and woken.</summary>
    private void CancelDescendants(SqliteConnection connection, string workflowId, string reason)
        => Execute(connection, """
            WITH RECURSIVE descendants(id) AS (
                SELECT child_id FROM run_children WHERE parent_id = $id AND abandon = 0
                UNION SELECT c.child_id FROM run_children c JOIN descendants d ON c.parent_id = d.id WHERE c.abandon = 0)
            UPDATE runs SET cancel_reason = $reason, wake_at = NULL, updated_at = $now
            WHERE workflow_id IN (SELECT id FROM descendants) AND status = 0 AND cancel_reason IS NULL;
            """, ("$id", workflowId), ("$reason", ChildLink.CancelReasonOf(workflowId, reason)), ("$now", ToUnixMs(_time.GetUtcNow())));

    private static ChildLink ReadLink(System.Data.Common.DbDataReader r) => new(r.GetString(0), r.GetString(1), r.GetInt64(2)) { AbandonOnParentCancel = r.GetBoolean(3) };
}
