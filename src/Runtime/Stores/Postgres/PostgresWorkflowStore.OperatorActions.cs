using Durably.Runtime.Journal;

namespace Durably.Runtime.Stores;

/// <summary>The operators' trail: table operator_actions, read newest first through its (workflow_id, id) index.</summary>
public sealed partial class PostgresWorkflowStore : IOperatorActionLog
{
    /// <inheritdoc/>
    public Task RecordOperatorActionAsync(OperatorActionRecord action, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(action);
        var sql = $"INSERT INTO {Quote(_schema)}.operator_actions (workflow_id, action, actor, reason, at) VALUES (@id, @action, @actor, @reason, @at)";
        return ExecuteAsync("record an operator action", async token =>
        {
            await using var command = Command(sql, ("id", action.WorkflowId), ("action", action.Action), ("actor", action.Actor), ("reason", action.Reason), ("at", Utc(action.At)));
            return await command.ExecuteNonQueryAsync(token).ConfigureAwait(false);
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<OperatorActionRecord>> ListOperatorActionsAsync(string workflowId, int limit, CancellationToken cancellationToken)
    {
        var sql = $"SELECT workflow_id, action, actor, reason, at FROM {Quote(_schema)}.operator_actions WHERE workflow_id = @id ORDER BY id DESC LIMIT @limit";
        return ExecuteAsync("list operator actions", async token =>
        {
            await using var command = Command(sql, ("id", workflowId), ("limit", limit));
            await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
            var actions = new List<OperatorActionRecord>();
            while (await reader.ReadAsync(token).ConfigureAwait(false))
            {
                actions.Add(new OperatorActionRecord(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetFieldValue<DateTimeOffset>(4)));
            }

            return (IReadOnlyList<OperatorActionRecord>)actions;
        }, cancellationToken);
    }
}
