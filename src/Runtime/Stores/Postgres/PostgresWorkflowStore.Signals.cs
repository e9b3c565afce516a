using Durably.Runtime.Journal;
using Npgsql;

namespace Durably.Runtime.Stores;

/// <summary>What reaches a run from outside: signals, cancel requests and the revival of dead letters.</summary>
public sealed partial class PostgresWorkflowStore
{
    /// <inheritdoc/>
    public Task<SignalSendOutcome> AddSignalAsync(SignalRecord signal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(signal);
        return ExecuteAsync("store a signal", async token =>
        {
            await using var command = Command(_sql.AddSignal,
                ("id", signal.WorkflowId), ("signal_id", signal.SignalId), ("name", signal.Name), ("payload", signal.PayloadJson),
                ("sent", Utc(signal.SentAt)), ("channel", _channel));
            await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
            await reader.ReadAsync(token).ConfigureAwait(false);
            return (Exists: reader.GetBoolean(0), Inserted: reader.GetBoolean(1), Duplicate: reader.GetBoolean(2)) switch
            {
                { Exists: false } => SignalSendOutcome.RunNotFound,
                { Inserted: true } => SignalSendOutcome.Accepted,
                { Duplicate: true } => SignalSendOutcome.Duplicate,
                _ when reader.GetInt16(3) is (short)WorkflowStatus.Running or (short)WorkflowStatus.DeadLettered => SignalSendOutcome.Duplicate,
                _ => SignalSendOutcome.RunFinished,
            };
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<CancelRequestOutcome> RequestCancelAsync(string workflowId, string reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reason);
        return ExecuteAsync("request a cancel", async token =>
        {
            var now = Utc(_time.GetUtcNow());
            await using var batch = _dataSource.CreateBatch();
            batch.BatchCommands.Add(BatchCommand(_sql.RequestCancel, ("id", workflowId), ("reason", reason), ("now", now), ("channel", _channel)));
            batch.BatchCommands.Add(BatchCommand(_sql.CancelDescendants,
                ("id", workflowId), ("child_reason", ChildLink.CancelReasonOf(workflowId, reason)), ("now", now), ("channel", _channel)));
            await using var reader = await batch.ExecuteReaderAsync(token).ConfigureAwait(false);
            await reader.ReadAsync(token).ConfigureAwait(false);
            return reader.IsDBNull(0) ? CancelRequestOutcome.RunNotFound
                : reader.GetBoolean(1) ? CancelRequestOutcome.Requested
                : reader.GetInt16(0) == (short)WorkflowStatus.Running ? CancelRequestOutcome.AlreadyRequested
                : CancelRequestOutcome.RunFinished;
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<RunRecord?> ReviveDeadLetterAsync(string workflowId, string? cancelReason, CancellationToken cancellationToken)
        => ExecuteAsync("revive a dead-lettered run", async token =>
        {
            await using var command = Command(_sql.ReviveDeadLetter,
                ("id", workflowId), ("reason", cancelReason), ("now", Utc(_time.GetUtcNow())), ("channel", _channel),
                ("dead_lettered", (short)WorkflowStatus.DeadLettered), ("attempting", (short)JournalEntryState.Attempting),
                ("failed", (short)JournalEntryState.Failed), ("compensation", (short)OperationKind.Compensation));
            try
            {
                await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
                return await reader.ReadAsync(token).ConfigureAwait(false) ? ReadRun(reader) : null;
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation && ex.ConstraintName == "runs_by_instance")
            {
                // Another active run of the workflow holds the run's instance key: the statement changed nothing.
                await using var holder = Command(_sql.InstanceHolder, ("id", workflowId));
                await using var reader = await holder.ExecuteReaderAsync(token).ConfigureAwait(false);
                if (!await reader.ReadAsync(token).ConfigureAwait(false))
                {
                    throw;
                }

                throw new WorkflowInstanceActiveException(reader.GetString(0), reader.GetString(1), reader.GetString(2));
            }
        }, cancellationToken);

    /// <inheritdoc/>
    public Task<JournalWriteResult> TakeSignalAsync(RunLease lease, JournalEntry completed, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(completed);
        var staged = _stagedStatuses.Take(lease);
        return _stagedStatuses.Settle(staged, ExecuteAsync("deliver a signal", async token =>
        {
            await using var command = Batch(staged, lease, BatchCommand(_sql.TakeSignal,
                [.. LeaseParameters(lease), ("sequence", completed.Sequence), ("name", name), ("completion_index", completed.CompletionIndex),
                    ("completed", completed.CompletedAt is { } at ? Utc(at) : null)]));
            await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
            await reader.ReadAsync(token).ConfigureAwait(false);
            return ReadWriteResult(reader, startsWork: true);
        }, cancellationToken));
    }
}
