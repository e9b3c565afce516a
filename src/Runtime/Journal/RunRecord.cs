namespace Durably.Runtime.Journal;

/// <summary>A run's row: what it runs, where it stands, and who may write to it.</summary>
/// <param name="WorkflowId">The run's id.</param>
/// <param name="WorkflowName">The workflow it runs.</param>
/// <param name="Version">The workflow version it was started on.</param>
/// <param name="InputJson">The run method's input, as JSON.</param>
/// <param name="Status">Where it stands.</param>
/// <param name="OutputJson">The result, as JSON, once completed.</param>
/// <param name="Error">The error, once failed or dead-lettered.</param>
/// <param name="Owner">The worker executing it, or <see langword="null"/>.</param>
/// <param name="Epoch">Incremented by every claim: a writer holding an older epoch is fenced.</param>
/// <param name="LeaseExpiresAt">When the owner's claim lapses unless renewed.</param>
/// <param name="CreatedAt">When it was started.</param>
/// <param name="UpdatedAt">When its row last changed.</param>
public sealed record RunRecord(
    string WorkflowId,
    string WorkflowName,
    int Version,
    string InputJson,
    WorkflowStatus Status,
    string? OutputJson,
    WorkflowError? Error,
    string? Owner,
    long Epoch,
    DateTimeOffset? LeaseExpiresAt,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    /// <summary>The public view of the run.</summary>
    /// <returns>The snapshot.</returns>
    public WorkflowRunInfo ToInfo() => new(WorkflowId, WorkflowName, Version, Status, Error, CreatedAt, UpdatedAt);
}

/// <summary>The right to write to a run: held by <see cref="Owner"/> at <see cref="Epoch"/>.</summary>
/// <param name="WorkflowId">The run.</param>
/// <param name="Owner">The worker holding it.</param>
/// <param name="Epoch">The epoch the claim produced.</param>
public sealed record RunLease(string WorkflowId, string Owner, long Epoch);

/// <summary>A run and its whole journal, read at once.</summary>
/// <param name="Run">The run's row.</param>
/// <param name="Journal">Its journal rows, by sequence number.</param>
public sealed record RunSnapshot(RunRecord Run, IReadOnlyList<JournalEntry> Journal);

/// <summary>How a run ended.</summary>
/// <param name="Status">Completed, Failed or DeadLettered.</param>
/// <param name="OutputJson">The result, when completed.</param>
/// <param name="Error">The error, otherwise.</param>
public sealed record RunOutcome(WorkflowStatus Status, string? OutputJson, WorkflowError? Error);

/// <summary>The result of a journal write.</summary>
/// <param name="Entry">The row as stored: the written one, or the terminal row that was already there.</param>
/// <param name="Fenced">The writer no longer owns the run (or the run is no longer active); nothing was written.</param>
public sealed record JournalWriteResult(JournalEntry? Entry, bool Fenced)
{
    /// <summary>A write refused because the writer's lease is stale or the run has ended.</summary>
    public static readonly JournalWriteResult FencedOut = new(null, true);
}
