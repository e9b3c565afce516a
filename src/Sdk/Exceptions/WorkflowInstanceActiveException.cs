namespace Durably;

/// <summary>
/// A single-instance start, or a dead letter's retry, was refused because an active run of the workflow already holds
/// the instance key; nothing was started or changed.
/// </summary>
public sealed class WorkflowInstanceActiveException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="workflowName">The workflow.</param>
    /// <param name="instanceKey">The key.</param>
    /// <param name="activeWorkflowId">The active run that holds it.</param>
    public WorkflowInstanceActiveException(string workflowName, string instanceKey, string activeWorkflowId)
        : base($"Instance key '{instanceKey}' of workflow '{workflowName}' is held by active run '{activeWorkflowId}'; at most one run per key may be active. Nothing was started.")
    {
        WorkflowName = workflowName;
        InstanceKey = instanceKey;
        ActiveWorkflowId = activeWorkflowId;
    }

    /// <summary>The workflow.</summary>
    public string WorkflowName { get; }

    /// <summary>The key.</summary>
    public string InstanceKey { get; }

    /// <summary>The active run that holds the key.</summary>
    public string ActiveWorkflowId { get; }
}
