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
        var start = context.EarlyStarts.Add(workflowId, () => early.EnsureStartDurableAsync(workflowId, CancellationToken.None));
        using var finished = context.WhenFinished(workflowId);
        local.Run(new RunLease(workflowId, local.WorkerName, stored.Epoch), new RunSnapshot(stored, []));
        if (await start.Durable.WaitAsync(cancellationToken).ConfigureAwait(false))
        {
            if (finished.Task.IsCompletedSuccessfully && finished.Task.Result is { } outcome)
            {
                context.KeepOutcome(workflowId, outcome);
            }

            return;
        }

        await context.Store.CreateRunAsync(record with { Owner = null, LeaseExpiresAt = null, Epoch = record.Epoch + 1 }, cancellationToken).ConfigureAwait(false);
        context.RunsAvailable.Set();
    }
}
