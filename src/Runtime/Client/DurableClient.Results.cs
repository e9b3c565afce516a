using Durably.Runtime.Journal;

namespace Durably.Runtime;

/// <summary>Waiting for a run's result: handed over by this process's worker, announced by the store, or polled.</summary>
public sealed partial class DurableClient
{
    private static readonly TimeSpan s_firstPoll = TimeSpan.FromMilliseconds(20);

    // Where the store announces results, a read now and then only guards against a notification lost in a reconnect
    // (the listener also wakes every waiter when it reconnects).
    private static readonly TimeSpan s_announcedBackstop = TimeSpan.FromSeconds(10);

    /// <inheritdoc/>
    public async Task<TOutput> WaitForResultAsync<TOutput>(string workflowId, CancellationToken cancellationToken = default)
    {
        ValidateWorkflowId(workflowId);
        var context = _engine.Context;
        var announced = context.Store is IWorkflowStoreEvents;
        var delay = announced ? s_announcedBackstop : s_firstPoll;
        // A run that ended here before its start returned left its outcome (see DurableClient.RunEarlyAsync).
        var handed = context.TakeKeptOutcome(workflowId);
        while (true)
        {
            // Subscribe before reading, so that a finish between the read and the wait is not missed.
            using var finished = context.WhenFinished(workflowId);
            var (status, outputJson, error, continuedAs) = handed is { } outcome
                ? (outcome.Status, outcome.OutputJson, outcome.Error, outcome.Continuation?.WorkflowId)
                : context.LocalRunner?.IsRunning(workflowId) == true
                    // Running here: its end is handed over (or announced, when it ends unfinished) without a read.
                    ? (WorkflowStatus.Running, null, null, null)
                    : await ReadAsync(workflowId).ConfigureAwait(false);
            handed = null;
            if (continuedAs is { } next)
            {
                // The run continued as new: its result is the newest run's.
                workflowId = next;
                continue;
            }

            switch (status)
            {
                case WorkflowStatus.Completed:
                    return context.Serializer.Deserialize<TOutput>(outputJson ?? "null", $"The result of run '{workflowId}'");
                case WorkflowStatus.Failed:
                case WorkflowStatus.DeadLettered:
                case WorkflowStatus.Cancelled:
                    throw new WorkflowFailedException(workflowId, status, error);
            }

            // Woken by this process finishing the run (with its outcome: nothing to read), or by the store's
            // announcement; otherwise read again with a backoff up to the poll interval (another process may finish it
            // on a store that cannot announce).
            await Task.WhenAny(finished.Task, Task.Delay(delay, context.Time, cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            if (finished.Task.IsCompletedSuccessfully)
            {
                handed = finished.Task.Result;
            }

            if (!announced)
            {
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, context.PollInterval.Ticks));
            }
        }

        // A store that announces only watched ends is asked to watch this one as it is read: a run read running will
        // have its end announced here.
        async Task<(WorkflowStatus, string?, WorkflowError?, string?)> ReadAsync(string id)
        {
            var run = (context.Store is IWorkflowStoreWatches watches
                    ? await watches.WatchRunAsync(id, cancellationToken).ConfigureAwait(false)
                    : await context.Store.GetRunAsync(id, cancellationToken).ConfigureAwait(false))
                ?? throw new WorkflowNotFoundException(id);
            return (run.Status, run.OutputJson, run.Error, run.ContinuedAs);
        }
    }
}
