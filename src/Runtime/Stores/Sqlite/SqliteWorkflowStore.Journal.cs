using Durably.Runtime.Journal;
using static Durably.Runtime.Stores.SqliteCommands;
using static Durably.Runtime.Stores.SqliteSchema;

namespace Durably.Runtime.Stores;

/// <summary>The journal: attempts, retries, outcomes and the run's end — every write fenced by the writer's lease.</summary>
public sealed partial class SqliteWorkflowStore
{
    /// <inheritdoc/>
    /// <remarks>
    /// <see cref="JournalDurability.Deferred"/> commits with <c>synchronous = NORMAL</c>: the WAL frames are written but
    /// not synced; the next <c>synchronous = FULL</c> commit syncs the WAL file, these frames with it.
    /// </remarks>
    public Task<JournalWriteResult> RecordAttemptAsync(RunLease lease, JournalEntry entry, JournalDurability durability, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return WriteAsync(lease, durability, connection =>
        {
            // A compensation is how a cancelled run is rolled back: it is not new work, so a cancel does not stop it.
            var cancelRequested = Held(connection, lease);
            if (cancelRequested is null)
            {
                return JournalWriteResult.FencedOut;
            }

            // Nor does it refuse a row sent as the body started: that work is under way.
            if (cancelRequested.Value && entry.Kind != OperationKind.Compensation && durability != JournalDurability.Pipelined)
            {
                return JournalWriteResult.Cancelled;
            }

            // Insert the first attempt, or count another one; a terminal row is never touched.
            Execute(connection, $"""
                INSERT INTO journal ({JournalColumns})
                VALUES ($id, $sequence, $operation, $kind, 0, $input, NULL, NULL, NULL, 1, NULL, $started, NULL, NULL)
                ON CONFLICT (workflow_id, sequence) DO UPDATE SET attempts = attempts + 1, retry_at = NULL WHERE state = 0;
                """,
                ("$id", lease.WorkflowId), ("$sequence", entry.Sequence), ("$operation", entry.OperationId), ("$kind", (int)entry.Kind),
                ("$input", entry.InputJson), ("$started", ToUnixMs(entry.StartedAt)));
            return new JournalWriteResult(ReadEntry(connection, lease.WorkflowId, entry.Sequence), false, cancelRequested.Value);
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<JournalWriteResult> CompleteEntryAsync(RunLease lease, JournalEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (!entry.IsTerminal)
        {
            throw new ArgumentException($"Journal row {entry.Sequence} of run '{entry.WorkflowId}' is {entry.State}, not terminal.", nameof(entry));
        }

        return WriteAsync(lease, JournalDurability.Durable, connection =>
        {
            if (Held(connection, lease) is not { } cancelRequested)
            {
                return JournalWriteResult.FencedOut;
            }

            // Written once: an existing terminal row stays as it is and is returned.
            Execute(connection, $"""
                INSERT INTO journal ({JournalColumns})
                VALUES ($id, $sequence, $operation, $kind, $state, $input, $output, $error_type, $error_message, $attempts, $completion_index, $started, $completed, NULL)
                ON CONFLICT (workflow_id, sequence) DO UPDATE SET
                    state = excluded.state, output_json = excluded.output_json, error_type = excluded.error_type,
                    error_message = excluded.error_message, completion_index = excluded.completion_index, completed_at = excluded.completed_at,
                    retry_at = NULL, attempts = max(attempts, excluded.attempts)
                WHERE state = 0;
                """, EntryParameters(entry with { WorkflowId = lease.WorkflowId }));
            return new JournalWriteResult(ReadEntry(connection, lease.WorkflowId, entry.Sequence), false, cancelRequested);
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<JournalWriteResult> ScheduleRetryAsync(RunLease lease, JournalEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return WriteAsync(lease, JournalDurability.Durable, connection =>
        {
            if (Held(connection, lease) is not { } cancelRequested)
            {
                return JournalWriteResult.FencedOut;
            }

            Execute(connection,
                "UPDATE journal SET error_type = $error_type, error_message = $error_message, retry_at = $retry_at WHERE workflow_id = $id AND sequence = $sequence AND state = 0;",
                ("$id", lease.WorkflowId), ("$sequence", entry.Sequence), ("$error_type", entry.Error?.Type), ("$error_message", entry.Error?.Message),
                ("$retry_at", entry.RetryAt is { } at ? ToUnixMs(at) : null));
            return new JournalWriteResult(TryReadEntry(connection, lease.WorkflowId, entry.Sequence), false, cancelRequested);
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<bool> CompleteRunAsync(RunLease lease, RunOutcome outcome, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        return WriteAsync(lease, JournalDurability.Durable, connection =>
        {
            var ended = Execute(connection, $"""
                UPDATE runs SET status = $status, output_json = $output, error_type = $error_type, error_message = $error_message,
                    failed_sequence = $failed_sequence, owner = NULL, lease_expires_at = NULL, updated_at = $now
                WHERE {HeldBy};
                """,
                [.. LeaseParameters(lease), ("$status", (int)outcome.Status), ("$output", outcome.OutputJson), ("$error_type", outcome.Error?.Type),
                    ("$error_message", outcome.Error?.Message), ("$failed_sequence", outcome.FailedSequence), ("$now", ToUnixMs(_time.GetUtcNow()))]) == 1;
            if (ended && outcome.Continuation is { } next)
            {
                if (ReadRun(connection, next.WorkflowId) is not null)
                {
                    // Thrown inside the transaction, which is rolled back: the run stays as it was.
                    throw new DurableStoreException($"Run '{lease.WorkflowId}' cannot continue as new: id '{next.WorkflowId}' is already taken.");
                }

                Execute(connection, $"INSERT INTO runs ({RunColumns}) VALUES ($id, $name, $version, $input, $status, $output, $error_type, $error_message, $owner, $epoch, $lease, $created, $updated, $wake, $generation, $cancel_reason, $failed_sequence, $instance_key, $fingerprint, $seed);",
                    RunParameters(next));
                Execute(connection, "UPDATE signals SET workflow_id = $next WHERE workflow_id = $id AND taken_by_sequence IS NULL;",
                    ("$next", next.WorkflowId), ("$id", lease.WorkflowId));
            }

            if (ended)
            {
                TellParent(connection, lease.WorkflowId, outcome.Status, outcome.Continuation?.WorkflowId);
            }

            return ended;
        }, cancellationToken);
    }
}
