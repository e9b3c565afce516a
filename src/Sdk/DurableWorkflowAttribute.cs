namespace Durably;

/// <summary>
/// Marks a <see langword="partial"/> class as a durable workflow. At compile time the Durably generator emits
/// its step table, the interceptors that journal each <see cref="StepAttribute">[Step]</see> call, a typed
/// client and its DI registration.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class DurableWorkflowAttribute : Attribute
{
    /// <summary>
    /// The name runs of this workflow are stored under. Defaults to the class name. Pin it before renaming
    /// the class, so that runs already in flight still find their workflow.
    /// </summary>
    public string? Name { get; set; }

    /// <summary>The version of the workflow's code; runs started on one version are replayed by the same version.</summary>
    public int Version { get; set; } = 1;

    /// <summary>
    /// What happens when the run method fails: compensate the completed steps and end <see cref="WorkflowStatus.Failed"/>,
    /// or park the run as a dead letter. <see cref="FailureRule.Automatic"/> (the default) parks runs whose failing
    /// step ran out of retries and compensates the rest. A cancelled run is always compensated.
    /// </summary>
    public FailureRule OnFailure { get; set; }
}
