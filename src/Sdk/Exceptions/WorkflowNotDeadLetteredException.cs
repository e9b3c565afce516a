namespace Durably;

/// <summary>A dead-letter operation (retry, discard) was asked of a run that is not dead-lettered; nothing changed.</summary>
public sealed class WorkflowNotDeadLetteredException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="workflowId">The run.</param>
    /// <param name="status">Its status.</param>
    /// <param name="operation">What was refused, e.g. "retried".</param>
    public WorkflowNotDeadLetteredException(string workflowId, WorkflowStatus status, string operation)
        : base($"Run '{workflowId}' is {status}, not {WorkflowStatus.DeadLettered}; only a dead-lettered run can be {operation}. Nothing changed.")
    {
        WorkflowId = workflowId;
        Status = status;
    }

    /// <summary>The run.</summary>
    public string WorkflowId { get; }

    /// <summary>Its status when the operation was refused.</summary>
    public WorkflowStatus Status { get; }
}
