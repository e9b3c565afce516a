using Durably.Runtime.Journal;

namespace Durably.Runtime.Stores;

/// <summary>
/// Early starts: a run this process's worker will hold is created with a commit that does not wait for the WAL flush, so
/// the run begins at once; the start is made durable beside it by a barrier sent with the group commit's durable writes
/// (usually sharing the flush of the run's first outcome, or of its end).
/// </summary>
public sealed partial class PostgresWorkflowStore : IWorkflowStoreEarlyStarts
{
    /// <summary>Sent first in a batch: the batch's transaction commits without waiting for the WAL flush.</summary>
    private const string CommitWithoutFlush = "SELECT set_config('synchronous_commit', 'off', true)";

    private string? _startBarrier;

    /// <summary>
    /// The barrier: a statement shaped as a fenced journal write's result (no row; "held" when the run exists). It locks
    /// the run's row for share as journal writes do, which writes to the WAL — a transaction that wrote only its commit
    /// record would commit without waiting for the flush — so its commit waits for the flush of everything committed
    /// before it, whatever else its batch holds. A run that is gone writes nothing and needs no flush.
    /// </summary>
    private string StartBarrier => _startBarrier ??=
        $"WITH held AS (SELECT workflow_id FROM {Quote(_schema)}.runs WHERE workflow_id = @id FOR SHARE) "
        + $"SELECT {string.Join(", ", Enumerable.Repeat("NULL", JournalColumnCount))}, EXISTS (SELECT 1 FROM held) AS held, false AS cancel";

    /// <inheritdoc/>
    public Task<(RunRecord Run, bool Created)> CreateRunEarlyAsync(RunRecord run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (run.Owner is null)
        {
            throw new ArgumentException($"Run '{run.WorkflowId}' has no owner: only a run its starter's worker holds starts early.", nameof(run));
        }

        return CreateRunAsync(run, deferred: true, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<(RunRecord Run, bool Created)> CreateEndedRunAsync(RunRecord run, RunOutcome outcome, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(outcome);
        if (run.Owner is null)
        {
            throw new ArgumentException($"Run '{run.WorkflowId}' has no owner: only a run its starter's worker held ends before its start is written.", nameof(run));
        }

        if (outcome.Status == WorkflowStatus.Running || outcome.Continuation is not null)
        {
            throw new ArgumentException(
                $"Run '{run.WorkflowId}' cannot be created ended with status {outcome.Status}{(outcome.Continuation is null ? "" : " and a continuation")}: only a final status without a next run.",
                nameof(outcome));
        }

        // The run's end as CompleteRunAsync writes it (no owner, no lease), in the run's one durable create: the whole run
        // costs one round trip and one flush. Unowned and ended, it wakes no worker.
        var ended = run with
        {
            Status = outcome.Status, OutputJson = outcome.OutputJson, Error = outcome.Error, FailedSequence = outcome.FailedSequence,
            Owner = null, LeaseExpiresAt = null, UpdatedAt = _time.GetUtcNow(),
        };
        return CreateRunAsync(ended, deferred: false, cancellationToken);
    }

    /// <inheritdoc/>
    public async Task<bool> EnsureStartDurableAsync(string workflowId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(workflowId);
        var result = await ExecuteAsync("make a start durable",
            token => GroupWriteAsync(StartBarrier, [("id", workflowId)], startsWork: false, deferred: false, status: null, token), cancellationToken).ConfigureAwait(false);
        return !result.Fenced;
    }
}
