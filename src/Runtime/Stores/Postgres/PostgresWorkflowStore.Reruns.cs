using Durably.Runtime.Journal;
using Npgsql;

namespace Durably.Runtime.Stores;

/// <summary>Runs created with their journal: one batch, one transaction; a taken id rolls the whole batch back.</summary>
public sealed partial class PostgresWorkflowStore : IWorkflowStoreReruns
{
    /// <inheritdoc/>
    public Task<bool> CreateRunWithJournalAsync(RunRecord run, IReadOnlyList<JournalEntry> journal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(journal);
        var s = Quote(_schema);
        return ExecuteAsync("create a run with its journal", async token =>
        {
            await using var batch = _dataSource.CreateBatch();
            batch.BatchCommands.Add(BatchCommand($"""
                INSERT INTO {s}.runs (workflow_id, workflow_name, version, input_json, status, epoch, created_at, updated_at, generation, instance_key, fingerprint, seed)
                VALUES (@id, @name, @version, @input, @status, @epoch, @created, @updated, @generation, @instance_key::text, @fingerprint::text, @seed::text)
                """,
                ("id", run.WorkflowId), ("name", run.WorkflowName), ("version", run.Version), ("input", run.InputJson), ("status", (short)run.Status),
                ("epoch", run.Epoch), ("created", Utc(run.CreatedAt)), ("updated", Utc(run.UpdatedAt)), ("generation", run.Generation),
                ("instance_key", run.InstanceKey), ("fingerprint", run.Fingerprint), ("seed", run.Seed)));
            foreach (var entry in journal)
            {
                batch.BatchCommands.Add(BatchCommand($"""
                    INSERT INTO {s}.journal (workflow_id, sequence, operation_id, kind, state, input_json, output_json, error_type, error_message, attempts, completion_index, started_at, completed_at)
                    VALUES (@id, @sequence, @operation, @kind, @state, @input::text, @output::text, @error_type::text, @error_message::text, @attempts, @completion_index::bigint, @started, @completed::timestamptz)
                    """,
                    ("id", run.WorkflowId), ("sequence", entry.Sequence), ("operation", entry.OperationId), ("kind", (short)entry.Kind), ("state", (short)entry.State),
                    ("input", entry.InputJson), ("output", entry.OutputJson), ("error_type", entry.Error?.Type), ("error_message", entry.Error?.Message),
                    ("attempts", entry.Attempts), ("completion_index", entry.CompletionIndex), ("started", Utc(entry.StartedAt)),
                    ("completed", entry.CompletedAt is { } completed ? Utc(completed) : null)));
            }

            batch.BatchCommands.Add(BatchCommand($"SELECT pg_notify(@channel, '{PostgresSchema.RunsAvailablePayload}')", ("channel", _channel)));
            try
            {
                await batch.ExecuteNonQueryAsync(token).ConfigureAwait(false);
                return true;
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation && ex.TableName == "runs")
            {
                // The whole batch rolled back: nothing was written.
                return false;
            }
        }, cancellationToken);
    }
}
