namespace Durably;

/// <summary>
/// A child workflow awaited with <see cref="Workflow.RunChildAsync{TWorkflow, TInput, TOutput}(Infrastructure.WorkflowDefinition{TWorkflow, TInput, TOutput}, TInput)"/> ended failed or
/// cancelled: thrown in the parent's run method, naming the child and its error. Catch it to go on without the child's
/// result; left uncaught, it fails the parent (or rolls it back, as the parent's rule says).
/// </summary>
public sealed class ChildWorkflowFailedException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="childWorkflowId">The child run's id.</param>
    /// <param name="childWorkflowName">The child's workflow.</param>
    /// <param name="sequence">The parent's journal row that awaited the child.</param>
    /// <param name="error">The child's error, as the parent's journal keeps it.</param>
    public ChildWorkflowFailedException(string childWorkflowId, string childWorkflowName, long sequence, WorkflowError error)
        : base($"Child workflow '{childWorkflowName}' (run '{childWorkflowId}', awaited at sequence {sequence}) {error.Message}")
    {
        ArgumentNullException.ThrowIfNull(error);
        ChildWorkflowId = childWorkflowId;
        ChildWorkflowName = childWorkflowName;
        Sequence = sequence;
        Error = error;
    }

    /// <summary>The child run's id.</summary>
    public string ChildWorkflowId { get; }

    /// <summary>The child's workflow.</summary>
    public string ChildWorkflowName { get; }

    /// <summary>The parent's journal row that awaited the child.</summary>
    public long Sequence { get; }

    /// <summary>How the child ended: its status and error.</summary>
    public WorkflowError Error { get; }
}
