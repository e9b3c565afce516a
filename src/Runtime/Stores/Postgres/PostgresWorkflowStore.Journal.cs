using System.Data.Common;
using Durably.Runtime.Journal;
using Npgsql;

namespace Durably.Runtime.Stores;

/// <summary>The journal: attempts, retries, outcomes and the run's end — every write one statement that locks the run row and checks the epoch.</summary>
public sealed partial class PostgresWorkflowStore
{
    /// <inheritdoc/>
    public Task<JournalWriteResult> RecordAttemptAsync(RunLease lease, JournalEntry entry, JournalDurability durability, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(entry);
        return entry.Kind == OperationKind.Compensation
            ? WriteEntryAsync(_sql.RecordCompensationAttempt, startsWork: false, lease, entry with { WorkflowId = lease.WorkflowId }, "record a compensation attempt", cancellationToken)
            : WriteEntryAsync(durability switch { JournalDurability.Deferred => _sql.RecordAttemptDeferred, JournalDurability.Pipelined => _sql.RecordAttemptPipelined, _ => _sql.RecordAttempt },
                startsWork: durability != JournalDurability.Pipelined, lease,
                entry with { WorkflowId = lease.WorkflowId }, "record a step attempt", cancellationToken);
    }

    /// <inheritdoc/>
    public Task<JournalWriteResult> CompleteEntryAsync(RunLease lease, JournalEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(entry);
        if (!entry.IsTerminal)
        {
            throw new ArgumentException($"Journal row {entry.Sequence} of run '{entry.WorkflowId}' is {entry.State}, not terminal.", nameof(entry));
        }

        return WriteEntryAsync(_sql.CompleteEntry, startsWork: false, lease, entry with { WorkflowId = lease.WorkflowId }, "record a step outcome", cancellationToken);
    }

    /// <inheritdoc/>
    public Task<JournalWriteResult> ScheduleRetryAsync(RunLease lease, JournalEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(entry);
        var staged = _stagedStatuses.Take(lease);
        return _stagedStatuses.Settle(staged, ExecuteAsync("schedule a step retry", async token =>
        {
            await using var command = Batch(staged, lease, BatchCommand(_sql.ScheduleRetry,
                [.. LeaseParameters(lease), ("sequence", entry.Sequence), ("error_type", entry.Error?.Type), ("error_message", entry.Error?.Message),
                    ("retry_at", entry.RetryAt is { } at ? Utc(at) : null)]));
            await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
            await reader.ReadAsync(token).ConfigureAwait(false);
            return ReadWriteResult(reader, startsWork: false);
        }, cancellationToken));
    }

    /// <summary>One statement, one round trip: lock the run row, check status and epoch, write the row, return what is stored.</summary>
    /// <remarks>Sent with the journal writes of other runs that are waiting at the same moment (group commit).</remarks>
    /// <remarks>
    /// Carries the run's staged status, except on a pipelined attempting row: that row may be replaced by its step's
    /// outcome before it is sent, and the outcome carries the status then.
    /// </remarks>
    private Task<JournalWriteResult> WriteEntryAsync(string sql, bool startsWork, RunLease lease, JournalEntry entry, string operation, CancellationToken cancellationToken)
    {
        var deferred = ReferenceEquals(sql, _sql.RecordAttemptDeferred) || ReferenceEquals(sql, _sql.RecordAttemptPipelined);
        var staged = ReferenceEquals(sql, _sql.RecordAttemptPipelined) ? null : _stagedStatuses.Take(lease);
        var status = StatusParameters(lease, staged);
        return _stagedStatuses.Settle(staged,
            ExecuteAsync(operation, token => GroupWriteAsync(sql, EntryParameters(lease, entry), startsWork, deferred, status, token, (lease, entry)), cancellationToken));
    }

    private static (string Name, object? Value)[] EntryParameters(RunLease lease, JournalEntry entry) =>
    [
        ("id", lease.WorkflowId), ("owner", lease.Owner), ("epoch", lease.Epoch), ("sequence", entry.Sequence), ("operation", entry.OperationId),
        ("kind", (short)entry.Kind), ("state", (short)entry.State), ("input", entry.InputJson), ("output", entry.OutputJson),
        ("error_type", entry.Error?.Type), ("error_message", entry.Error?.Message), ("attempts", entry.Attempts),
        ("completion_index", entry.CompletionIndex), ("started", Utc(entry.StartedAt)), ("completed", entry.CompletedAt is { } completed ? Utc(completed) : null),
    ];

    /// <summary>Reads a fenced write's row: the journal columns (null when none), then whether held and whether cancel was requested.</summary>
    private static JournalWriteResult ReadWriteResult(DbDataReader reader, bool startsWork)
    {
        var held = reader.GetBoolean(JournalColumnCount);
        var cancel = reader.GetBoolean(JournalColumnCount + 1);
        return !held ? JournalWriteResult.FencedOut
            : cancel && startsWork ? JournalWriteResult.Cancelled
            : new JournalWriteResult(reader.IsDBNull(0) ? null : ReadEntry(reader), false, cancel);
    }

    /// <inheritdoc/>
    public Task<bool> CompleteRunAsync(RunLease lease, RunOutcome outcome, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(outcome);
        if (outcome.Continuation is { } next)
        {
            return ContinueRunAsync(lease, outcome, next, cancellationToken);
        }

        // Sent with the group commit's durable writes: the end shares their round trip and their flush. Its announcement
        // and its parent's wake follow everything in the batch, in the same transaction.
        var staged = _stagedStatuses.Take(lease);
        (string Sql, (string Name, object? Value)[] Parameters)[] after = ChildLink.WakingStatuses.Contains(outcome.Status)
            ? [.. Announcement(lease.WorkflowId), (_sql.LockParent, [("id", lease.WorkflowId)]), (_sql.WakeParent, [("id", lease.WorkflowId), ("channel", _channel)])]
            : Announcement(lease.WorkflowId);
        return _stagedStatuses.Settle(staged, ExecuteAsync("end a run", async token =>
        {
            var ended = await GroupWriteAsync(EndRun, [.. LeaseParameters(lease), ("status", (short)outcome.Status), ("output", outcome.OutputJson), ("error_type", outcome.Error?.Type),
                ("error_message", outcome.Error?.Message), ("failed_sequence", outcome.FailedSequence), ("now", Utc(_time.GetUtcNow()))],
                startsWork: false, deferred: false, StatusParameters(lease, staged), token, after: after).ConfigureAwait(false);
            return !ended.Fenced;
        }, cancellationToken));
    }

    private string? _endRun;

    /// <summary>The fenced end of a run (<see cref="PostgresStatements.CompleteRun"/>), shaped as a fenced journal write's result: "held" when it ended the run.</summary>
    private string EndRun => _endRun ??= $"WITH ended AS ({_sql.CompleteRun} RETURNING 1) "
        + $"SELECT {string.Join(", ", Enumerable.Repeat("NULL", JournalColumnCount))}, EXISTS (SELECT 1 FROM ended) AS held, false AS cancel";

    /// <summary>What follows a run's end: announced to whoever watches it, and only then (see <see cref="PostgresStatements.WatchRun"/>).</summary>
    private (string Sql, (string Name, object? Value)[] Parameters)[] Announcement(string workflowId)
        => [(PostgresStatements.RunEndLock, [("id", workflowId)]), (_sql.AnnounceEnd, [("id", workflowId), ("channel", _channel)])];

    /// <summary>Ends a batch that ended a run: the end is announced to whoever watches it, and only then (see <see cref="PostgresStatements.WatchRun"/>).</summary>
    private void AddAnnouncement(NpgsqlBatch batch, string workflowId)
    {
        foreach (var (sql, parameters) in Announcement(workflowId))
        {
            batch.BatchCommands.Add(BatchCommand(sql, parameters));
        }
    }

    private Task<bool> ContinueRunAsync(RunLease lease, RunOutcome outcome, RunRecord next, CancellationToken cancellationToken)
    {
        var staged = _stagedStatuses.Take(lease);
        return _stagedStatuses.Settle(staged, ExecuteAsync("continue a run as new", async token =>
        {
            await using var batch = _dataSource.CreateBatch();
            batch.BatchCommands.Add(BatchCommand(_sql.ContinueRun,
                [.. LeaseParameters(lease), ("status", (short)outcome.Status), ("now", Utc(_time.GetUtcNow())), ("channel", _channel),
                    ("next_id", next.WorkflowId), ("next_name", next.WorkflowName), ("next_version", next.Version), ("next_input", next.InputJson),
                    ("next_generation", next.Generation), ("next_instance_key", next.InstanceKey), ("next_fingerprint", next.Fingerprint), ("next_seed", next.Seed)]));
            AddAnnouncement(batch, lease.WorkflowId);
            batch.BatchCommands.Add(BatchCommand(_sql.HandOnParent, ("id", lease.WorkflowId), ("next_id", next.WorkflowId)));
            AddStatus(batch, lease, staged);
            try
            {
                return await batch.ExecuteScalarAsync(token).ConfigureAwait(false) is 1L;
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                // The whole statement failed: the run is as it was.
                throw new DurableStoreException($"Run '{lease.WorkflowId}' cannot continue as new: id '{next.WorkflowId}' is already taken.", ex);
            }
        }, cancellationToken));
    }
}
