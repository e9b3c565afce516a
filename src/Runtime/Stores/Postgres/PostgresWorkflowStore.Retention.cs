using Durably.Runtime.Journal;

namespace Durably.Runtime.Stores;

/// <summary>Purging ended runs, oldest first, through the runs_finished index; one statement per batch.</summary>
public sealed partial class PostgresWorkflowStore : IWorkflowStoreRetention
{
    /// <inheritdoc/>
    public Task<IReadOnlyList<string>> PurgeRunsAsync(RunPurgeQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var s = Quote(_schema);
        var statuses = string.Join(", ", RunPurgeQuery.PurgedStatuses.Select(status => (int)status));
        // One statement: the batch's rows are locked (SKIP LOCKED: two purges share the work), then deleted child tables
        // first — foreign keys are checked at the statement's end, when all the deletes are done.
        var sql = $"""
            WITH doomed AS (
                SELECT workflow_id FROM {s}.runs
                WHERE status <> 0 AND status IN ({statuses}) AND updated_at < @before AND (@name::text IS NULL OR workflow_name = @name::text)
                ORDER BY updated_at LIMIT @limit FOR UPDATE SKIP LOCKED),
            journal AS (DELETE FROM {s}.journal WHERE workflow_id IN (SELECT workflow_id FROM doomed)),
            signals AS (DELETE FROM {s}.signals WHERE workflow_id IN (SELECT workflow_id FROM doomed)),
            actions AS (DELETE FROM {s}.operator_actions WHERE workflow_id IN (SELECT workflow_id FROM doomed)),
            statuses AS (DELETE FROM {s}.run_status WHERE workflow_id IN (SELECT workflow_id FROM doomed)),
            links AS (DELETE FROM {s}.run_children WHERE child_id IN (SELECT workflow_id FROM doomed) OR parent_id IN (SELECT workflow_id FROM doomed))
            DELETE FROM {s}.runs WHERE workflow_id IN (SELECT workflow_id FROM doomed) RETURNING workflow_id, updated_at
            """;
        return ExecuteAsync("purge runs", async token =>
        {
            await using var command = Command(sql, ("before", Utc(query.EndedBefore)), ("name", query.WorkflowName), ("limit", query.Limit));
            await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
            var purged = new List<(string Id, DateTimeOffset EndedAt)>();
            while (await reader.ReadAsync(token).ConfigureAwait(false))
            {
                purged.Add((reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(1)));
            }

            // RETURNING follows no order: put the batch back in the order it was chosen, oldest first.
            return (IReadOnlyList<string>)[.. purged.OrderBy(p => p.EndedAt).ThenBy(p => p.Id, StringComparer.Ordinal).Select(p => p.Id)];
        }, cancellationToken);
    }
}
