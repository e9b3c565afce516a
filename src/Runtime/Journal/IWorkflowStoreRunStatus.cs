namespace Durably.Runtime.Journal;

/// <summary>
/// What a run says about itself while it runs: the status its run method publishes (<c>Workflow.SetStatus</c>) and the
/// progress its steps report (<c>StepContext.ReportProgress</c>). Neither is journaled as a row: a status rides on the
/// run's next write, progress has throttled writes of its own. The built-in stores implement it; a store without it
/// keeps neither (both calls then do nothing).
/// </summary>
public interface IWorkflowStoreRunStatus
{
    /// <summary>
    /// Stages <paramref name="statusJson"/> as the status of run <see cref="RunLease.WorkflowId"/>: it costs no write of
    /// its own, but is written in the same transaction as the next write fenced by <paramref name="lease"/> —
    /// <see cref="IWorkflowStore.RecordAttemptAsync"/>, <see cref="IWorkflowStore.CompleteEntryAsync"/>,
    /// <see cref="IWorkflowStore.ScheduleRetryAsync"/>, <see cref="IWorkflowStore.TakeSignalAsync"/>,
    /// <see cref="IWorkflowStore.SuspendAsync"/>, <see cref="IWorkflowStore.ReleaseAsync"/> or
    /// <see cref="IWorkflowStore.CompleteRunAsync"/> — and only while the lease is current. A status equal to the stored
    /// one changes nothing (<see cref="RunStatusRecord.StatusUpdatedAt"/> stays); a later stage replaces one not yet
    /// written; statuses of one run are written in the order staged.
    /// </summary>
    /// <param name="lease">The run's current lease.</param>
    /// <param name="statusJson">The status as JSON; <see langword="null"/> clears it.</param>
    void StageStatus(RunLease lease, string? statusJson);

    /// <summary>
    /// Replaces the progress of the run's steps with <paramref name="progressJson"/> (opaque to the store), when
    /// <paramref name="lease"/> is current; written without waiting for the disk (it is redone by the next report).
    /// </summary>
    /// <param name="lease">The run's current lease.</param>
    /// <param name="progressJson">The progress of the steps in progress, as the engine writes it.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns><see langword="false"/> when the lease was not current and nothing was written.</returns>
    Task<bool> WriteProgressAsync(RunLease lease, string progressJson, CancellationToken cancellationToken);

    /// <summary>Reads the status and progress of run <paramref name="workflowId"/>.</summary>
    /// <param name="workflowId">The run.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>What the run published, or <see langword="null"/> when it published nothing (or does not exist).</returns>
    Task<RunStatusRecord?> GetRunStatusAsync(string workflowId, CancellationToken cancellationToken);
}

/// <summary>What a run published about itself (<see cref="IWorkflowStoreRunStatus"/>).</summary>
/// <param name="WorkflowId">The run.</param>
/// <param name="StatusJson">Its status as JSON, or <see langword="null"/> when it has none (or cleared it).</param>
/// <param name="StatusUpdatedAt">When the status last changed; <see langword="null"/> when none was written.</param>
/// <param name="ProgressJson">Its steps' progress, as the engine wrote it; <see langword="null"/> when none was reported.</param>
/// <param name="ProgressUpdatedAt">When the progress was last written.</param>
public sealed record RunStatusRecord(string WorkflowId, string? StatusJson, DateTimeOffset? StatusUpdatedAt, string? ProgressJson, DateTimeOffset? ProgressUpdatedAt);
