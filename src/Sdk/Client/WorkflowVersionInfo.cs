namespace Durably;

/// <summary>
/// The runs in flight of one workflow version and contract fingerprint (<see cref="IDurableClient.ListWorkflowVersionsAsync"/>):
/// the drain view. When a version (or a fingerprint that a change left behind) has no active runs, its code can go.
/// </summary>
/// <param name="WorkflowName">The workflow's name.</param>
/// <param name="Version">The version.</param>
/// <param name="Fingerprint">The contract fingerprint the runs started on; null for runs that recorded none.</param>
/// <param name="ActiveRuns">Runs still <see cref="WorkflowStatus.Running"/>.</param>
/// <param name="WaitingForWorker">Of those, the ones ready to run that no live worker holds.</param>
/// <param name="OldestStartedAt">When the oldest of them started.</param>
/// <param name="HasLiveWorker">Whether a live worker advertises that it can run this version.</param>
public sealed record WorkflowVersionInfo(string WorkflowName, int Version, string? Fingerprint, long ActiveRuns, long WaitingForWorker, DateTimeOffset OldestStartedAt, bool HasLiveWorker);
