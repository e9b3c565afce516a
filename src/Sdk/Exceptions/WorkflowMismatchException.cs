namespace Durably;

/// <summary>
/// A workflow's typed client was given the id of a run of another workflow: nothing was done to that run. Use that
/// workflow's client, or <see cref="IDurableClient"/>, for it.
/// </summary>
public sealed class WorkflowMismatchException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="workflowId">The run's id.</param>
    /// <param name="expectedWorkflow">The workflow of the client that was asked.</param>
    /// <param name="actualWorkflow">The workflow the run is of.</param>
    public WorkflowMismatchException(string workflowId, string expectedWorkflow, string actualWorkflow)
        : base($"Run '{workflowId}' is a run of workflow '{actualWorkflow}', not of '{expectedWorkflow}'; nothing was done to it. Use the client of '{actualWorkflow}', or IDurableClient.")
    {
        WorkflowId = workflowId;
        ExpectedWorkflow = expectedWorkflow;
        ActualWorkflow = actualWorkflow;
    }

    /// <summary>The run's id.</summary>
    public string WorkflowId { get; }

    /// <summary>The workflow of the client that was asked.</summary>
    public string ExpectedWorkflow { get; }

    /// <summary>The workflow the run is of.</summary>
    public string ActualWorkflow { get; }
}
