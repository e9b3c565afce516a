namespace Durably;

/// <summary>A start reused a workflow id with another workflow or another input.</summary>
public sealed class WorkflowConflictException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="workflowId">The reused id.</param>
    /// <param name="message">What differs.</param>
    public WorkflowConflictException(string workflowId, string message)
        : base(message) => WorkflowId = workflowId;

    /// <summary>The reused id.</summary>
    public string WorkflowId { get; }
}
