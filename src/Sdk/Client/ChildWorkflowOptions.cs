namespace Durably;

/// <summary>How a child workflow started with <see cref="Workflow.RunChildAsync{TWorkflow, TInput, TOutput}(Infrastructure.WorkflowDefinition{TWorkflow, TInput, TOutput}, TInput, ChildWorkflowOptions)"/> relates to its parent.</summary>
public sealed record ChildWorkflowOptions
{
    /// <summary>What a cancel of the parent does to the child: cancel it too (the default), or leave it running.</summary>
    public ParentCancelPolicy OnParentCancel { get; init; } = ParentCancelPolicy.Cascade;
}

/// <summary>What a cancel of the parent does to a child it started.</summary>
public enum ParentCancelPolicy
{
    /// <summary>The child is asked to cancel too, with the parent's reason, in the same write as the parent's cancel.</summary>
    Cascade = 0,

    /// <summary>The child goes on by itself; the parent stops waiting for it.</summary>
    Abandon = 1,
}
