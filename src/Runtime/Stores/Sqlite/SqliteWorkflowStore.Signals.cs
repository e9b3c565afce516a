using Durably.Runtime.Journal;
using static Durably.Runtime.Stores.SqliteCommands;
using static Durably.Runtime.Stores.SqliteSchema;

namespace Durably.Runtime.Stores;

/// <summary>What reaches a run from outside: signals, cancel requests and the revival of dead letters.</summary>
public sealed partial class SqliteWorkflowStore
{
    /// <inheritdoc/>
    public Task<SignalSendOutcome> AddSignalAsync(SignalRecord signal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(signal);
        return WriteAsync(connection =>
        {
            var run = ReadRun(connection, signal.WorkflowId);
            if (run is null)
            {
                return SignalSendOutcome.RunNotFound;
            }

            if (Query(connection, "SELECT 1 FROM signals WHERE workflow_id = $id AND signal_id = $signal_id;", r => r.GetInt64(0),
                ("$id", signal.WorkflowId), ("$signal_id", signal.SignalId)).Count == 1)
            {
                return SignalSendOutcome.Duplicate;
            }

            if (run.Status is not (WorkflowStatus.Running or WorkflowStatus.DeadLettered))
            {
                return SignalSendOutcome.RunFinished;
            }

            Execute(connection, "INSERT INTO signals (workflow_id, signal_id, name, payload_json, sent_at) VALUES ($id, $signal_id, $name, $payload, $sent);",
                ("$id", signal.WorkflowId), ("$signal_id", signal.SignalId), ("$name", signal.Name), ("$payload", signal.PayloadJson), ("$sent", ToUnixMs(signal.SentAt)));
            Execute(connection, "UPDATE runs SET wake_at = NULL WHERE workflow_id = $id AND wake_at IS NOT NULL;", ("$id", signal.WorkflowId));
            return SignalSendOutcome.Accepted;
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<CancelRequestOutcome> RequestCancelAsync(string workflowId, string reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reason);
        return WriteAsync(connection =>
        {
            var run = ReadRun(connection, workflowId);
            if (run is null)
            {
                return CancelRequestOutcome.RunNotFound;
            }

            if (run.Status != WorkflowStatus.Running)
            {
                return CancelRequestOutcome.RunFinished;
            }

            if (run.IsCancelRequested)
            {
                return CancelRequestOutcome.AlreadyRequested;
            }

            Execute(connection, "UPDATE runs SET cancel_reason = $reason, wake_at = NULL, updated_at = $now WHERE workflow_id = $id;",
                ("$id", workflowId), ("$reason", reason), ("$now", ToUnixMs(_time.GetUtcNow())));
            CancelDescendants(connection, workflowId, reason);
            return CancelRequestOutcome.Requested;
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<RunRecord?> ReviveDeadLetterAsync(string workflowId, string? cancelReason, CancellationToken cancellationToken)
        => WriteAsync(connection =>
        {
            var run = ReadRun(connection, workflowId);
            if (run is not { Status: WorkflowStatus.DeadLettered })
            {
                return run;
            }

            if (HolderOf(connection, run.WorkflowName, run.InstanceKey, except: workflowId) is { } holder)
            {
                throw new WorkflowInstanceActiveException(run.WorkflowName, run.InstanceKey!, holder.WorkflowId);
            }

            var now = ToUnixMs(_time.GetUtcNow());
            if (run.FailedSequence is { } sequence)
            {
                Execute(connection, """
                    UPDATE journal SET state = $attempting, attempts = 0, completion_index = NULL, completed_at = NULL, retry_at = $now
                    WHERE workflow_id = $id AND sequence = $sequence AND state = $failed AND ($retry OR kind = $compensation);
                    """,
                    ("$id", workflowId), ("$sequence", sequence), ("$now", now), ("$attempting", (int)JournalEntryState.Attempting),
                    ("$failed", (int)JournalEntryState.Failed), ("$retry", cancelReason is null), ("$compensation", (int)OperationKind.Compensation));
            }

            Execute(connection, """
                UPDATE runs SET status = $running, output_json = NULL, error_type = NULL, error_message = NULL, failed_sequence = NULL,
                    owner = NULL, lease_expires_at = NULL, wake_at = NULL, cancel_reason = COALESCE(cancel_reason, $reason), updated_at = $now
                WHERE workflow_id = $id;
                """,
                ("$id", workflowId), ("$running", (int)WorkflowStatus.Running), ("$reason", cancelReason), ("$now", now));
            return run;
        }, cancellationToken);

    /// <inheritdoc/>
    public Task<JournalWriteResult> TakeSignalAsync(RunLease lease, JournalEntry completed, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(completed);
        return WriteAsync(lease, JournalDurability.Durable, connection =>
        {
            switch (Held(connection, lease))
            {
                case null:
                    return JournalWriteResult.FencedOut;
                case true:
                    return JournalWriteResult.Cancelled;
            }

            var stored = TryReadEntry(connection, lease.WorkflowId, completed.Sequence);
            if (stored is { IsTerminal: true })
            {
                return new JournalWriteResult(stored, false);
            }

            var signal = Query(connection,
                "SELECT position, payload_json FROM signals WHERE workflow_id = $id AND name = $name AND taken_by_sequence IS NULL ORDER BY position LIMIT 1;",
                r => (Position: r.GetInt64(0), Payload: r.GetString(1)), ("$id", lease.WorkflowId), ("$name", name));
            if (signal.Count == 0)
            {
                return new JournalWriteResult(null, false);
            }

            Execute(connection, "UPDATE signals SET taken_by_sequence = $sequence WHERE position = $position;",
                ("$sequence", completed.Sequence), ("$position", signal[0].Position));
            var written = (stored ?? completed with { WorkflowId = lease.WorkflowId }) with
            {
                State = JournalEntryState.Completed,
                OutputJson = signal[0].Payload,
                Error = null,
                CompletionIndex = completed.CompletionIndex,
                CompletedAt = completed.CompletedAt,
            };
            Execute(connection, $"INSERT OR REPLACE INTO journal ({JournalColumns}) VALUES ($id, $sequence, $operation, $kind, $state, $input, $output, $error_type, $error_message, $attempts, $completion_index, $started, $completed, NULL);",
                EntryParameters(written));
            return new JournalWriteResult(TryReadEntry(connection, lease.WorkflowId, completed.Sequence), false);
        }, cancellationToken);
    }
}
