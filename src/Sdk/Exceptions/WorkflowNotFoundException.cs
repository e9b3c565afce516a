namespace Durably;

/// <summary>No run has the given workflow id.</summary>
public sealed class WorkflowNotFoundException : KeyNotFoundException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="workflowId">The id that was looked up.</param>
    public WorkflowNotFoundException(string workflowId)
        : base($"No workflow run has id '{workflowId}'.") => WorkflowId = workflowId;

    /// <summary>The id that was looked up.</summary>
    public string WorkflowId { get; }
}
