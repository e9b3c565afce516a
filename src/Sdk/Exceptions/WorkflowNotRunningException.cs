namespace Durably;

/// <summary>The run has ended, so it cannot take what was sent to it (nothing was stored).</summary>
public sealed class WorkflowNotRunningException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="workflowId">The run.</param>
    /// <param name="what">What was refused, e.g. "signal 'approve'".</param>
    public WorkflowNotRunningException(string workflowId, string what)
        : base($"Run '{workflowId}' has ended; it cannot take {what}, which was not stored.")
    {
        WorkflowId = workflowId;
    }

    /// <summary>The run.</summary>
    public string WorkflowId { get; }
}
