using Durably.Runtime.Journal;
using Npgsql;

namespace Durably.Runtime.Stores;

/// <summary>
/// Runs' statuses and steps' progress (table <c>run_status</c>): a staged status is one more statement in the batch of
/// the run's next fenced write — same round trip, same transaction; progress has writes of its own, without waiting
/// for the WAL flush.
/// </summary>
public sealed partial class PostgresWorkflowStore : IWorkflowStoreRunStatus
{
    private readonly StagedStatuses _stagedStatuses = new();

    private StatusStatements? _statusStatements;

    private StatusStatements _statusSql => _statusStatements ??= new StatusStatements(Quote(_schema));

    /// <inheritdoc/>
    public void StageStatus(RunLease lease, string? statusJson) => _stagedStatuses.Stage(lease, statusJson);

    /// <inheritdoc/>
    public Task<bool> WriteProgressAsync(RunLease lease, string progressJson, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(progressJson);
        return ExecuteAsync("write a run's progress", async token =>
        {
            await using var command = Command(_statusSql.WriteProgress, [.. LeaseParameters(lease), ("progress", progressJson), ("now", Utc(_time.GetUtcNow()))]);
            return await command.ExecuteNonQueryAsync(token).ConfigureAwait(false) == 1;
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<RunStatusRecord?> GetRunStatusAsync(string workflowId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workflowId);
        return ExecuteAsync("read a run's status", async token =>
        {
            await using var command = Command(_statusSql.Read, ("id", workflowId));
            await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
            return await reader.ReadAsync(token).ConfigureAwait(false)
                ? new RunStatusRecord(workflowId, reader.IsDBNull(0) ? null : reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTimeOffset>(1),
                    reader.IsDBNull(2) ? null : reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3))
                : null;
        }, cancellationToken);
    }

    /// <summary>The parameters of the status statement for <paramref name="staged"/>, or null when nothing is staged.</summary>
    private (string Name, object? Value)[]? StatusParameters(RunLease lease, StagedStatuses.Staged? staged)
        => staged is null ? null : [("id", lease.WorkflowId), ("epoch", lease.Epoch), ("status", staged.Json), ("now", Utc(_time.GetUtcNow()))];

    /// <summary>A batch of <paramref name="commands"/> followed by the status statement, when a status is staged.</summary>
    private NpgsqlBatch Batch(StagedStatuses.Staged? staged, RunLease lease, params NpgsqlBatchCommand[] commands)
    {
        var batch = _dataSource.CreateBatch();
        foreach (var command in commands)
        {
            batch.BatchCommands.Add(command);
        }

        AddStatus(batch, lease, staged);
        return batch;
    }

    /// <summary>Adds the status statement last, so the batch's other results keep their places.</summary>
    private void AddStatus(NpgsqlBatch batch, RunLease lease, StagedStatuses.Staged? staged)
    {
        if (StatusParameters(lease, staged) is { } parameters)
        {
            batch.BatchCommands.Add(BatchCommand(_statusSql.Write, parameters));
        }
    }

    private sealed class StatusStatements(string s)
    {
        /// <summary>
        /// Fenced by the lease's epoch, which a run's end keeps (so it may follow the end in its batch), with the run's row
        /// locked for share as journal writes lock it; a status equal to the stored one writes nothing.
        /// </summary>
        public string Write { get; } = $"""
            INSERT INTO {s}.run_status (workflow_id, status_json, status_at)
            SELECT r.workflow_id, @status::text, @now FROM {s}.runs r WHERE r.workflow_id = @id AND r.epoch = @epoch FOR SHARE
            ON CONFLICT (workflow_id) DO UPDATE SET status_json = EXCLUDED.status_json, status_at = EXCLUDED.status_at
            WHERE {s}.run_status.status_at IS NULL OR {s}.run_status.status_json IS DISTINCT FROM EXCLUDED.status_json
            """;

        public string WriteProgress { get; } = $"""
            WITH held AS (SELECT workflow_id, set_config('synchronous_commit', 'off', true) FROM {s}.runs
                WHERE workflow_id = @id AND status = 0 AND owner = @owner AND epoch = @epoch FOR SHARE)
            INSERT INTO {s}.run_status (workflow_id, progress_json, progress_at)
            SELECT workflow_id, @progress, @now FROM held
            ON CONFLICT (workflow_id) DO UPDATE SET progress_json = EXCLUDED.progress_json, progress_at = EXCLUDED.progress_at
            """;

        public string Read { get; } = $"SELECT status_json, status_at, progress_json, progress_at FROM {s}.run_status WHERE workflow_id = @id";
    }
}
