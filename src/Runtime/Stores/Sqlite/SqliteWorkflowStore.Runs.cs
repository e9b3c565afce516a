using Durably.Runtime.Journal;
using Microsoft.Data.Sqlite;
using static Durably.Runtime.Stores.SqliteCommands;
using static Durably.Runtime.Stores.SqliteSchema;

namespace Durably.Runtime.Stores;

/// <summary>Runs: start, read, list and load (a run with its journal, in one read).</summary>
public sealed partial class SqliteWorkflowStore
{
    /// <inheritdoc/>
    public Task<(RunRecord Run, bool Created)> CreateRunAsync(RunRecord run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        return WriteAsync(connection =>
        {
            // One writer at a time: the key's holder read here is still the holder at the insert.
            if (ReadRun(connection, run.WorkflowId) is null && HolderOf(connection, run.WorkflowName, run.InstanceKey) is { } holder)
            {
                return (holder, false);
            }

            var inserted = Execute(connection,
                $"INSERT INTO runs ({RunColumns}) VALUES ($id, $name, $version, $input, $status, $output, $error_type, $error_message, $owner, $epoch, $lease, $created, $updated, $wake, $generation, $cancel_reason, $failed_sequence, $instance_key, $fingerprint, $seed) ON CONFLICT (workflow_id) DO NOTHING;",
                RunParameters(run));
            var stored = ReadRun(connection, run.WorkflowId)!;
            return (stored, inserted == 1);
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<RunRecord?> GetRunAsync(string workflowId, CancellationToken cancellationToken)
    {
        return Read(connection => ReadRun(connection, workflowId), cancellationToken);
    }

    private static readonly RunListDialect s_runListDialect = new("$", "$", "", static status => (int)status, static time => ToUnixMs(time));

    /// <inheritdoc/>
    public Task<IReadOnlyList<RunRecord>> ListRunsAsync(RunListQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var filter = RunListFilter.For(query, s_runListDialect);
        return Read<IReadOnlyList<RunRecord>>(connection => Query(connection,
            $"SELECT {RunColumns} FROM runs{filter.Where} ORDER BY created_at DESC, workflow_id DESC LIMIT $limit;",
            r => StoredRows.ReadRun(r, ReadTime), [.. filter.Parameters]), cancellationToken);
    }

    /// <inheritdoc/>
    public Task<RunSnapshot?> LoadAsync(string workflowId, CancellationToken cancellationToken)
    {
        // One read transaction: the run and its journal as of one moment.
        return Read(connection => InTransaction(connection, TransactionKind.Read, () =>
        {
            var run = ReadRun(connection, workflowId);
            return run is null ? null
                : new RunSnapshot(run, ReadJournal(connection, workflowId));
        }), cancellationToken);
    }

    /// <summary>The journal of <paramref name="workflowId"/>, in sequence order.</summary>
    private static List<JournalEntry> ReadJournal(SqliteConnection connection, string workflowId)
        => Query(connection, $"SELECT {JournalColumns} FROM journal WHERE workflow_id = $id ORDER BY sequence;", ReadEntry, ("$id", workflowId));
}
