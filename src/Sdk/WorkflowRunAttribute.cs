namespace Durably;

/// <summary>
/// Marks the entry point of a <see cref="DurableWorkflowAttribute">[DurableWorkflow]</see> class: an instance
/// method returning <see cref="Task"/> or <see cref="Task{TResult}"/> that takes at most one serialisable input.
/// It runs on a deterministic scheduler and is replayed from the journal after a crash.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class WorkflowRunAttribute : Attribute
{
}
