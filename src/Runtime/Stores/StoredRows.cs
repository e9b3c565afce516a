using System.Data.Common;
using Durably.Runtime.Journal;

namespace Durably.Runtime.Stores;

/// <summary>
/// Reads run and journal rows as the SQL stores select them, in one column order: a run is workflow id, name, version,
/// input, status, output, error type, error message, owner, epoch, lease expiry, created, updated, wake time,
/// generation, cancel reason, failed sequence, instance key, fingerprint; a journal row is
/// workflow id, sequence, operation id, kind, state, input, output, error type, error message, attempts, completion
/// index, started, completed, retry at. Each store says how it keeps times.
/// </summary>
internal static class StoredRows
{
    public static RunRecord ReadRun(DbDataReader r, Func<DbDataReader, int, DateTimeOffset> readTime) => new(
        WorkflowId: r.GetString(0),
        WorkflowName: r.GetString(1),
        Version: r.GetInt32(2),
        InputJson: r.GetString(3),
        Status: (WorkflowStatus)r.GetInt32(4),
        OutputJson: r.IsDBNull(5) ? null : r.GetString(5),
        Error: ReadError(r, 6),
        Owner: r.IsDBNull(8) ? null : r.GetString(8),
        Epoch: r.GetInt64(9),
        LeaseExpiresAt: r.IsDBNull(10) ? null : readTime(r, 10),
        CreatedAt: readTime(r, 11),
        UpdatedAt: readTime(r, 12),
        WakeAt: r.IsDBNull(13) ? null : readTime(r, 13),
        Generation: r.GetInt32(14),
        CancelReason: r.IsDBNull(15) ? null : r.GetString(15),
        FailedSequence: r.IsDBNull(16) ? null : r.GetInt64(16),
        InstanceKey: r.IsDBNull(17) ? null : r.GetString(17),
        Fingerprint: r.IsDBNull(18) ? null : r.GetString(18),
        Seed: r.IsDBNull(19) ? null : r.GetString(19));

    public static JournalEntry ReadEntry(DbDataReader r, Func<DbDataReader, int, DateTimeOffset> readTime) => new(
        WorkflowId: r.GetString(0),
        Sequence: r.GetInt64(1),
        OperationId: r.GetString(2),
        Kind: (OperationKind)r.GetInt32(3),
        State: (JournalEntryState)r.GetInt32(4),
        InputJson: r.IsDBNull(5) ? null : r.GetString(5),
        OutputJson: r.IsDBNull(6) ? null : r.GetString(6),
        Error: ReadError(r, 7),
        Attempts: r.GetInt32(9),
        CompletionIndex: r.IsDBNull(10) ? null : r.GetInt64(10),
        StartedAt: readTime(r, 11),
        CompletedAt: r.IsDBNull(12) ? null : readTime(r, 12),
        RetryAt: r.IsDBNull(13) ? null : readTime(r, 13));

    private static WorkflowError? ReadError(DbDataReader r, int typeColumn)
        => r.IsDBNull(typeColumn) ? null : new WorkflowError(r.GetString(typeColumn), r.IsDBNull(typeColumn + 1) ? string.Empty : r.GetString(typeColumn + 1));
}
