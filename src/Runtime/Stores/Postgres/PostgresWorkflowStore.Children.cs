using Durably.Runtime.Journal;

namespace Durably.Runtime.Stores;

/// <summary>Child runs: created with their link in one statement; a child's end wakes an unloaded parent in its own batch.</summary>
public sealed partial class PostgresWorkflowStore : IWorkflowStoreChildren
{
    /// <inheritdoc/>
    public Task<(RunRecord Run, bool Created)> CreateChildRunAsync(RunRecord child, ChildLink link, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(child);
        ArgumentNullException.ThrowIfNull(link);
        return ExecuteAsync("create a child run", async token =>
        {
            await using var batch = _dataSource.CreateBatch();
            batch.BatchCommands.Add(BatchCommand(_sql.CreateChildRun,
                ("id", child.WorkflowId), ("name", child.WorkflowName), ("version", child.Version), ("input", child.InputJson), ("created", Utc(child.CreatedAt)),
                ("fingerprint", child.Fingerprint), ("seed", child.Seed), ("channel", _channel), ("parent", link.ParentId), ("parent_sequence", link.ParentSequence), ("abandon", link.AbandonOnParentCancel)));
            batch.BatchCommands.Add(BatchCommand(_sql.GetRun, ("id", child.WorkflowId)));
            await using var reader = await batch.ExecuteReaderAsync(token).ConfigureAwait(false);
            await reader.ReadAsync(token).ConfigureAwait(false);
            var created = reader.GetInt64(0) == 1;
            await reader.NextResultAsync(token).ConfigureAwait(false);
            await reader.ReadAsync(token).ConfigureAwait(false);
            return (ReadRun(reader), created);
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<ChildLink?> GetParentAsync(string childId, CancellationToken cancellationToken)
        => ExecuteAsync("read a run's parent", async token =>
        {
            await using var command = Command(_sql.GetParent, ("id", childId));
            await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
            return await reader.ReadAsync(token).ConfigureAwait(false) ? ReadLink(reader) : null;
        }, cancellationToken);

    /// <inheritdoc/>
    public Task<IReadOnlyList<ChildLink>> GetParentsAsync(IReadOnlyCollection<string> childIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(childIds);
        if (childIds.Count == 0)
        {
            return Task.FromResult<IReadOnlyList<ChildLink>>([]);
        }

        return ExecuteAsync("read runs' parents", async token =>
        {
            await using var command = Command(_sql.GetParents, ("ids", childIds.ToArray()));
            await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
            var links = new List<ChildLink>();
            while (await reader.ReadAsync(token).ConfigureAwait(false))
            {
                links.Add(ReadLink(reader));
            }

            return (IReadOnlyList<ChildLink>)links;
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<ChildLink>> ListChildrenAsync(string parentId, CancellationToken cancellationToken)
        => ExecuteAsync("list a run's children", async token =>
        {
            await using var command = Command(_sql.ListChildren, ("id", parentId));
            await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
            var children = new List<ChildLink>();
            while (await reader.ReadAsync(token).ConfigureAwait(false))
            {
                children.Add(ReadLink(reader));
            }

            return (IReadOnlyList<ChildLink>)children;
        }, cancellationToken);

    private static ChildLink ReadLink(System.Data.Common.DbDataReader reader)
        => new(reader.GetString(0), reader.GetString(1), reader.GetInt64(2)) { AbandonOnParentCancel = reader.GetBoolean(3) };

    /// <inheritdoc/>
    public async Task<RunRecord?> RollBackChildAsync(string childId, string reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(childId);
        ArgumentNullException.ThrowIfNull(reason);
        var s = Quote(_schema);
        await ExecuteAsync("roll back a child run", async token =>
        {
            var now = Utc(_time.GetUtcNow());
            await using var batch = _dataSource.CreateBatch();
            // Reopened when it completed (a worker is told), else asked to cancel when it runs (it is told); then its
            // own children, when it was asked now.
            batch.BatchCommands.Add(BatchCommand($"""
                UPDATE {s}.runs SET status = 0, output_json = NULL, owner = NULL, owner_incarnation = NULL, wake_at = NULL, cancel_reason = @reason, updated_at = @now
                WHERE workflow_id = @id AND status = {(int)WorkflowStatus.Completed}
                RETURNING pg_notify(@channel, '{PostgresSchema.RunsAvailablePayload}')
                """, ("id", childId), ("reason", reason), ("now", now), ("channel", _channel)));
            batch.BatchCommands.Add(BatchCommand(_sql.RequestCancel, ("id", childId), ("reason", reason), ("now", now), ("channel", _channel)));
            batch.BatchCommands.Add(BatchCommand(_sql.CancelDescendants, ("id", childId), ("child_reason", ChildLink.CancelReasonOf(childId, reason)), ("now", now), ("channel", _channel)));
            await batch.ExecuteNonQueryAsync(token).ConfigureAwait(false);
            return 0;
        }, cancellationToken).ConfigureAwait(false);
        return await GetRunAsync(childId, cancellationToken).ConfigureAwait(false);
    }
}
