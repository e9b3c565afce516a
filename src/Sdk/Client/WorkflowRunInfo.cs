namespace Durably;

/// <summary>A snapshot of a run's state.</summary>
/// <param name="WorkflowId">The run's id.</param>
/// <param name="WorkflowName">The workflow it runs.</param>
/// <param name="Version">The workflow version it was started on.</param>
/// <param name="Status">Where it stands.</param>
/// <param name="Error">Why it failed or was dead-lettered, else <see langword="null"/>.</param>
/// <param name="CreatedAt">When it was started.</param>
/// <param name="UpdatedAt">When its state last changed.</param>
/// <param name="ContinuedAs">The run that carries on after this one continued as new, else <see langword="null"/>.</param>
/// <param name="CancelReason">
/// The reason given when a cancel was requested (possibly empty), else <see langword="null"/>: a run still
/// <see cref="WorkflowStatus.Running"/> with a reason is being stopped.
/// </param>
/// <param name="InstanceKey">The single-instance key it was started with (<see cref="WorkflowStartOptions.InstanceKey"/>), else <see langword="null"/>.</param>
/// <param name="Fingerprint">
/// The fingerprint of the workflow's contract the run started on (what the generator computed for that version's code:
/// its types, steps, signals and the order of its durable calls), else <see langword="null"/> for older runs.
/// </param>
public sealed record WorkflowRunInfo(
    string WorkflowId,
    string WorkflowName,
    int Version,
    WorkflowStatus Status,
    WorkflowError? Error,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    string? ContinuedAs = null,
    string? CancelReason = null,
    string? InstanceKey = null,
    string? Fingerprint = null)
{
    /// <summary>
    /// The run that started this one as a child (<see cref="Workflow.RunChildAsync{TWorkflow, TInput, TOutput}(Infrastructure.WorkflowDefinition{TWorkflow, TInput, TOutput}, TInput)"/>),
    /// where the reader looked it up (listings and run details do); otherwise <see langword="null"/>.
    /// </summary>
    public string? ParentWorkflowId { get; init; }
}

/// <summary>A journaled failure: the exception's type name and message, never the exception object.</summary>
/// <param name="Type">The exception's full type name.</param>
/// <param name="Message">The exception's message.</param>
public sealed record WorkflowError(string Type, string Message)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Type}: {Message}";
}
