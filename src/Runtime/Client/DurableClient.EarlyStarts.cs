using Durably.Runtime.Journal;

namespace Durably.Runtime;

/// <summary>Early starts: a run held by this process's worker begins before its start is on disk (see <see cref="IWorkflowStoreEarlyStarts"/>).</summary>
public sealed partial class DurableClient
{
    /// <summary>
    /// Runs an early start here and returns once the start is durable: the execution settles it with its first durable
    /// write — a short run's end, a quick step's outcome — or with the store's barrier when it first waits for anything
    /// else (see <see cref="Engine.EarlyStart"/>). A run that ended meanwhile leaves its outcome for the caller's
    /// <c>WaitForResultAsync</c>. If the database lost the start (its server restarted before the flush), the run is
    /// created again, durably and held by no one, at a later epoch — so the execution begun here is fenced out — and any
    /// worker claims it.
    /// </summary>
    private async Task RunEarlyAsync(IWorkflowStoreEarlyStarts early, Engine.ILocalRunner local, RunRecord stored, RunRecord record, CancellationToken cancellationToken)
    {
        var context = _engine.Context;
        var workflowId = stored.WorkflowId;
        var start = context.EarlyStarts.Add(workflowId, new Engine.EarlyStart(() => early.EnsureStartDurableAsync(workflowId, CancellationToken.None)));
        using var finished = context.WhenFinished(workflowId);
        local.Run(new RunLease(workflowId, local.WorkerName, stored.Epoch), new RunSnapshot(stored, []));
        await SettleEarlyAsync(early, start, finished.Task, stored, record, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs a deferred start here (see <see cref="Engine.EarlyStart"/>): the execution begins at once and creates the run
    /// before its first operation, or stores it already ended when the run method ends before any. Returns the run that
    /// holds the id and whether this start created it — once the start is durable, as <see cref="RunEarlyAsync"/> does.
    /// When the id was taken, the execution begun here wrote nothing and stops.
    /// </summary>
    private async Task<(RunRecord Run, bool Created)> RunDeferredAsync(IWorkflowStoreEarlyStarts early, Engine.ILocalRunner local, RunRecord record, CancellationToken cancellationToken)
    {
        var context = _engine.Context;
        var workflowId = record.WorkflowId;
        var start = context.EarlyStarts.Add(workflowId, new Engine.EarlyStart(record,
            (run, ended) => ended ? context.Store.CreateRunAsync(run, CancellationToken.None) : early.CreateRunEarlyAsync(run, CancellationToken.None),
            () => early.EnsureStartDurableAsync(workflowId, CancellationToken.None)));
        using var finished = context.WhenFinished(workflowId);
        local.Run(new RunLease(workflowId, local.WorkerName, record.Epoch), new RunSnapshot(record, []));
        var (stored, created) = await start.Created.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (created)
        {
            await SettleEarlyAsync(early, start, finished.Task, stored, record, cancellationToken).ConfigureAwait(false);
        }

        return (stored, created);
    }

    /// <summary>Waits until an early start is durable, keeps the outcome of a run that ended meanwhile, and creates a lost start again.</summary>
    private async Task SettleEarlyAsync(IWorkflowStoreEarlyStarts early, Engine.EarlyStart start, Task<RunOutcome?> finished, RunRecord stored, RunRecord record, CancellationToken cancellationToken)
    {
        var context = _engine.Context;
        var workflowId = stored.WorkflowId;
        if (await start.Durable.WaitAsync(cancellationToken).ConfigureAwait(false))
        {
            if (finished.IsCompletedSuccessfully && finished.Result is { } outcome)
            {
                context.KeepOutcome(workflowId, outcome);
            }

            return;
        }

        await context.Store.CreateRunAsync(record with { Owner = null, LeaseExpiresAt = null, Epoch = record.Epoch + 1 }, cancellationToken).ConfigureAwait(false);
        context.RunsAvailable.Set();
    }
}
