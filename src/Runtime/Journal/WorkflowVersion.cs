namespace Durably.Runtime.Journal;

/// <summary>A workflow name and version: what a worker can run, and what a run needs.</summary>
/// <param name="Name">The workflow's <c>[DurableWorkflow]</c> name.</param>
/// <param name="Version">Its version.</param>
public sealed record WorkflowVersion(string Name, int Version)
{
    /// <inheritdoc/>
    public override string ToString() => $"'{Name}' v{Version}";
}

/// <summary>The active runs of one workflow version, as <see cref="IWorkflowStore.ListActiveVersionsAsync"/> counts them.</summary>
/// <param name="Workflow">The workflow name and version.</param>
/// <param name="ActiveRuns">Its runs that are <see cref="WorkflowStatus.Running"/>.</param>
/// <param name="WaitingForWorker">Of those, the ones ready to run that no live worker holds (unowned and due, or with an expired lease).</param>
/// <param name="OldestStartedAt">When the oldest of its active runs started.</param>
/// <param name="HasLiveWorker">Whether a worker whose advertisement has not lapsed can run it (<see cref="IWorkflowStore.AdvertiseAsync"/>).</param>
/// <param name="Fingerprint">The contract fingerprint these runs started on (one row per fingerprint); null for runs that recorded none.</param>
public sealed record ActiveWorkflowVersion(WorkflowVersion Workflow, long ActiveRuns, long WaitingForWorker, DateTimeOffset OldestStartedAt, bool HasLiveWorker, string? Fingerprint = null);
