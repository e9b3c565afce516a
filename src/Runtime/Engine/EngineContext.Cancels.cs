using Durably.Runtime.Journal;
using Microsoft.Extensions.Logging;

namespace Durably.Runtime.Engine;

// Cancels asked in this process: the run's execution here is woken at once, and so are its descendants' — the store
// passes a parent's cancel on to its children and theirs, which would otherwise see it only at their next lease heartbeat.
internal sealed partial class EngineContext
{
    /// <summary>The most descendants one cancel wakes here (a family larger than that waits for its heartbeat).</summary>
    private const int MaxDescendantsWoken = 1000;

    /// <summary>
    /// A cancel of <paramref name="workflowId"/> was recorded: wakes its execution here, and those of its descendants the
    /// cancel reached (children not started to be abandoned, and theirs). Reading the family may fail; the cancel stands
    /// and the descendants see it at their next heartbeat, so the failure is logged, not thrown.
    /// </summary>
    public async Task NotifyCancelRequestedAsync(string workflowId, CancellationToken cancellationToken)
    {
        NotifySignalled(workflowId);
        if (Store is not IWorkflowStoreChildren family || _signalled.IsEmpty)
        {
            return;
        }

        try
        {
            var seen = new HashSet<string>(StringComparer.Ordinal) { workflowId };
            var parents = new Queue<string>([workflowId]);
            while (parents.TryDequeue(out var parent) && seen.Count <= MaxDescendantsWoken)
            {
                foreach (var link in await family.ListChildrenAsync(parent, cancellationToken).ConfigureAwait(false))
                {
                    if (!link.AbandonOnParentCancel && seen.Add(link.ChildId))
                    {
                        if (_signalled.TryGetValue(link.ChildId, out var wake))
                        {
                            wake();
                        }

                        parents.Enqueue(link.ChildId);
                    }
                }
            }
        }
        catch (DurableStoreException ex)
        {
            LogDescendantsNotWoken(Telemetry.Logger, workflowId, ex);
        }
    }

    [LoggerMessage(22, LogLevel.Warning, "The cancel of run {WorkflowId} stands, but its children running here could not be found to be told at once; they see it at their next lease heartbeat")]
    private static partial void LogDescendantsNotWoken(ILogger logger, string workflowId, Exception exception);
}
