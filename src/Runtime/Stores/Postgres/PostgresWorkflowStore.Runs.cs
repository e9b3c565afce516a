using Durably.Runtime.Journal;
using Npgsql;

namespace Durably.Runtime.Stores;

/// <summary>Runs: start, read, list and load (a run with its journal, in one read).</summary>
public sealed partial class PostgresWorkflowStore
{
    /// <inheritdoc/>
    public Task<(RunRecord Run, bool Created)> CreateRunAsync(RunRecord run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        return CreateRunAsync(run, deferred: false, cancellationToken);
    }

    /// <summary>The most runs one create batch takes.</summary>
    private const int MaxCreatesPerBatch = 64;

    // Runs created at the same moment (many callers starting runs at once) go in one round trip and one transaction per
    // batch, on one connection, instead of a connection each: durable creates and early ones apart (an early create's
    // transaction does not wait for the flush).
    private readonly BatchQueue<RunRecord, (RunRecord Run, bool Created)?> _creates;
    private readonly BatchQueue<RunRecord, (RunRecord Run, bool Created)?> _earlyCreates;
    private readonly HeldConnection? _createsConnection;
    private readonly HeldConnection? _earlyCreatesConnection;

    /// <summary>Creates a run; when <paramref name="deferred"/>, its commit does not wait for the WAL flush (an early start).</summary>
    private Task<(RunRecord Run, bool Created)> CreateRunAsync(RunRecord run, bool deferred, CancellationToken cancellationToken)
        => ExecuteAsync("start a run", async token =>
        {
            // Two concurrent creators: the loser's statement may not see the winner's row in its snapshot; it looks again.
            while (true)
            {
                if (await (deferred ? _earlyCreates : _creates).EnqueueAsync(run, token).ConfigureAwait(false) is { } created)
                {
                    return created;
                }
            }
        }, cancellationToken);

    /// <summary>
    /// Creates the runs in one round trip and one transaction, in the order of their ids (two processes' batches wait for
    /// each other's rows in one order, never in a cycle); each one's stored run and whether this created it, or null
    /// when it must look again.
    /// </summary>
    private Task<(RunRecord Run, bool Created)?[]> CreateRunsAsync(RunRecord[] runs, bool deferred)
        => SendOnAsync(deferred ? _earlyCreatesConnection : _createsConnection, batch => CreateRunsAsync(batch, runs, deferred));

    private async Task<(RunRecord Run, bool Created)?[]> CreateRunsAsync(NpgsqlBatch batch, RunRecord[] runs, bool deferred)
    {
        var order = Enumerable.Range(0, runs.Length).OrderBy(i => runs[i].WorkflowId, StringComparer.Ordinal).ToArray();
        if (deferred)
        {
            batch.BatchCommands.Add(BatchCommand(CommitWithoutFlush));
        }

        foreach (var run in order.Select(i => runs[i]))
        {
            batch.BatchCommands.Add(BatchCommand(_sql.CreateRun,
                ("id", run.WorkflowId), ("name", run.WorkflowName), ("version", run.Version), ("input", run.InputJson),
                ("status", (short)run.Status), ("output", run.OutputJson), ("error_type", run.Error?.Type), ("error_message", run.Error?.Message), ("failed_sequence", run.FailedSequence),
                ("owner", run.Owner), ("incarnation", run.Owner is { } owner ? Incarnation(owner) : null), ("epoch", run.Epoch), ("created", Utc(run.CreatedAt)), ("updated", Utc(run.UpdatedAt)), ("generation", run.Generation),
                ("instance_key", run.InstanceKey), ("fingerprint", run.Fingerprint), ("seed", run.Seed), ("channel", _channel)));
        }

        CountWritten(runs: true, runs.Length);
        var results = new (RunRecord Run, bool Created)?[runs.Length];
        await using var reader = await batch.ExecuteReaderAsync().ConfigureAwait(false);
        for (var k = 0; k < order.Length; k++)
        {
            if (k > 0 || deferred)
            {
                await reader.NextResultAsync().ConfigureAwait(false);
            }

            if (await reader.ReadAsync().ConfigureAwait(false))
            {
                results[order[k]] = (ReadRun(reader), reader.GetBoolean(RunColumnCount));
            }
        }

        return results;
    }

    /// <inheritdoc/>
    public Task<RunRecord?> WatchRunAsync(string workflowId, CancellationToken cancellationToken)
        => ExecuteAsync("watch a run", async token =>
        {
            await using var batch = _dataSource.CreateBatch();
            batch.BatchCommands.Add(BatchCommand(PostgresStatements.RunEndLock, ("id", workflowId)));
            batch.BatchCommands.Add(BatchCommand(_sql.WatchRun, ("id", workflowId)));
            await using var reader = await batch.ExecuteReaderAsync(token).ConfigureAwait(false);
            await reader.NextResultAsync(token).ConfigureAwait(false);
            return await reader.ReadAsync(token).ConfigureAwait(false) ? ReadRun(reader) : null;
        }, cancellationToken);

    /// <inheritdoc/>
    public Task<RunRecord?> GetRunAsync(string workflowId, CancellationToken cancellationToken)
        => ExecuteAsync("read a run", async token =>
        {
            await using var command = Command(_sql.GetRun, ("id", workflowId));
            await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
            return await reader.ReadAsync(token).ConfigureAwait(false) ? ReadRun(reader) : null;
        }, cancellationToken);

    private static readonly RunListDialect s_runListDialect = new("@", "", "r.", static status => (short)status, static time => Utc(time));

    /// <inheritdoc/>
    public Task<IReadOnlyList<RunRecord>> ListRunsAsync(RunListQuery query, CancellationToken cancellationToken)
    {
        var filter = RunListFilter.For(query, s_runListDialect);
        return ExecuteAsync("list runs", async token =>
        {
            await using var command = Command(_sql.ListRuns(filter.Where), [.. filter.Parameters]);
            await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
            var page = new List<RunRecord>();
            while (await reader.ReadAsync(token).ConfigureAwait(false))
            {
                page.Add(ReadRun(reader));
            }

            return (IReadOnlyList<RunRecord>)page;
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<RunSnapshot?> LoadAsync(string workflowId, CancellationToken cancellationToken)
        => ExecuteAsync("load a run's journal", async token =>
        {
            // One round trip: the run row and its whole journal in one batch.
            await using var batch = _dataSource.CreateBatch();
            batch.BatchCommands.Add(BatchCommand(_sql.GetRun, ("id", workflowId)));
            batch.BatchCommands.Add(BatchCommand(_sql.GetJournal, ("id", workflowId)));
            await using var reader = await batch.ExecuteReaderAsync(token).ConfigureAwait(false);
            if (!await reader.ReadAsync(token).ConfigureAwait(false))
            {
                return null;
            }

            var run = ReadRun(reader);
            await reader.NextResultAsync(token).ConfigureAwait(false);
            var journal = new List<JournalEntry>();
            while (await reader.ReadAsync(token).ConfigureAwait(false))
            {
                journal.Add(ReadEntry(reader));
            }

            return new RunSnapshot(run, journal);
        }, cancellationToken);
}
