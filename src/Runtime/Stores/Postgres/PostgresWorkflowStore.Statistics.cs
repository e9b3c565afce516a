using Durably.Runtime.Journal;

namespace Durably.Runtime.Stores;

/// <summary>Counts for operators, from the status indexes (runs_by_status_workflow, runs_finished).</summary>
public sealed partial class PostgresWorkflowStore : IWorkflowStoreStatistics
{
    private (string All, string Finished)? _countRuns;

    /// <inheritdoc/>
    public Task<IReadOnlyList<RunCount>> CountRunsAsync(DateTimeOffset? finishedSince, CancellationToken cancellationToken)
    {
        // Grouped in the index's order: an index-only scan feeding a streaming aggregate (about 12 ms for 100,000 runs).
        var (all, finished) = _countRuns ??= (
            $"SELECT workflow_name, status, count(*) FROM {Quote(_schema)}.runs GROUP BY status, workflow_name ORDER BY status, workflow_name",
            $"SELECT workflow_name, status, count(*) FROM {Quote(_schema)}.runs WHERE status <> 0 AND updated_at >= @since GROUP BY status, workflow_name ORDER BY status, workflow_name");
        return ExecuteAsync("count runs", async token =>
        {
            await using var command = finishedSince is { } since ? Command(finished, ("since", Utc(since))) : Command(all);
            await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
            var counts = new List<RunCount>();
            while (await reader.ReadAsync(token).ConfigureAwait(false))
            {
                counts.Add(new RunCount(reader.GetString(0), (WorkflowStatus)reader.GetInt16(1), reader.GetInt64(2)));
            }

            return (IReadOnlyList<RunCount>)counts;
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<WorkerRecord>> ListWorkersAsync(CancellationToken cancellationToken)
    {
        // The newest incarnation of each name, with the runs held by any of its incarnations (through runs_by_owner).
        var s = Quote(_schema);
        var sql = $"""
            SELECT DISTINCT ON (w.name) w.name, w.workflows, w.advertised_until - @skew, w.heartbeat_at - @skew, w.lease_expires_at - @skew,
                (SELECT count(*) FROM {s}.runs r WHERE r.status = 0 AND r.owner_incarnation IN (SELECT i.incarnation FROM {s}.workers i WHERE i.name = w.name))
            FROM {s}.workers w ORDER BY w.name, w.started_at DESC
            """;
        return ExecuteAsync("list workers", async token =>
        {
            await using var command = Command(sql, ("skew", Skew()));
            await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
            var workers = new List<WorkerRecord>();
            while (await reader.ReadAsync(token).ConfigureAwait(false))
            {
                var held = reader.GetInt64(5);
                workers.Add(new WorkerRecord(
                    reader.GetString(0),
                    [.. reader.GetFieldValue<string[]>(1).Select(WorkerRecord.ParseVersion)],
                    reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2),
                    reader.GetFieldValue<DateTimeOffset>(3),
                    held == 0 ? null : reader.GetFieldValue<DateTimeOffset>(4),
                    held));
            }

            return (IReadOnlyList<WorkerRecord>)workers;
        }, cancellationToken);
    }
}
