namespace Durably;

/// <summary>A run ended without a result: it failed, was dead-lettered or was cancelled (see <see cref="Status"/>).</summary>
public sealed class WorkflowFailedException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="workflowId">The run's id.</param>
    /// <param name="status">How it ended.</param>
    /// <param name="error">The journaled error.</param>
    public WorkflowFailedException(string workflowId, WorkflowStatus status, WorkflowError? error)
        : base($"Workflow run '{workflowId}' ended {status}: {error?.ToString() ?? "no error recorded"}")
    {
        WorkflowId = workflowId;
        Status = status;
        Error = error;
    }

    /// <summary>The run's id.</summary>
    public string WorkflowId { get; }

    /// <summary>How it ended.</summary>
    public WorkflowStatus Status { get; }

    /// <summary>The journaled error.</summary>
    public WorkflowError? Error { get; }
}
