namespace Durably.Runtime.Journal;

/// <summary>
/// Deleting runs that ended long ago — for a retention policy and for an operator's purge — in small batches, each its
/// own transaction, so a purge of millions never holds a long lock. The built-in stores implement it.
/// </summary>
public interface IWorkflowStoreRetention
{
    /// <summary>
    /// Deletes, oldest first, at most <see cref="RunPurgeQuery.Limit"/> runs that ended before
    /// <see cref="RunPurgeQuery.EndedBefore"/> — completed, failed, cancelled or continued as new; never a run still
    /// running and never a dead letter, which waits for a person — with their journal, signals and operators' actions.
    /// </summary>
    /// <param name="query">Which runs, and how many at most.</param>
    /// <param name="cancellationToken">Cancels the batch (nothing of it is deleted).</param>
    /// <returns>The ids of the runs deleted; fewer than the limit when no more qualify.</returns>
    Task<IReadOnlyList<string>> PurgeRunsAsync(RunPurgeQuery query, CancellationToken cancellationToken);
}

/// <summary>Which ended runs <see cref="IWorkflowStoreRetention.PurgeRunsAsync"/> deletes.</summary>
/// <param name="EndedBefore">Only runs that ended (were last changed) before this time.</param>
/// <param name="WorkflowName">Only runs of this workflow, when set.</param>
/// <param name="Limit">The most runs to delete in this batch.</param>
public sealed record RunPurgeQuery(DateTimeOffset EndedBefore, string? WorkflowName, int Limit)
{
    /// <summary>The statuses a purge deletes: the terminal ones, not <see cref="WorkflowStatus.DeadLettered"/>.</summary>
    public static IReadOnlyList<WorkflowStatus> PurgedStatuses { get; } =
        [WorkflowStatus.Completed, WorkflowStatus.Failed, WorkflowStatus.ContinuedAsNew, WorkflowStatus.Cancelled];
}

/// <summary>One purge, batch after batch: what the retention service and an operator's purge share.</summary>
internal static class RetentionBatches
{
    /// <summary>
    /// Purges batches of <paramref name="query"/>'s limit until one comes back short, pausing <paramref name="pause"/>
    /// between batches and telling <paramref name="purged"/> each batch's count.
    /// </summary>
    public static async Task PurgeInBatchesAsync(this IWorkflowStoreRetention store, RunPurgeQuery query, TimeSpan pause, TimeProvider time, Action<int> purged, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var batch = await store.PurgeRunsAsync(query, cancellationToken).ConfigureAwait(false);
            purged(batch.Count);
            if (batch.Count < query.Limit)
            {
                return;
            }

            if (pause > TimeSpan.Zero)
            {
                await Task.Delay(pause, time, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
