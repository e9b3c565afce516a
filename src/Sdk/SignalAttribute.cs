namespace Durably;

/// <summary>
/// Declares a signal a workflow waits for, as a partial method the generator implements:
/// <code>
/// [Signal(Name = "approve")]
/// private partial Task&lt;SignalResult&lt;Approval&gt;&gt; WaitForApprovalAsync(TimeSpan timeout);
/// </code>
/// Calling it in the run method is a durable wait (<see cref="Workflow.WaitForSignalAsync{T}"/>); the workflow's
/// generated client gets a typed method to send it (<c>SignalApprovalAsync(workflowId, Approval payload)</c>), so the
/// signal's name and payload type are checked at compile time on both sides.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class SignalAttribute : Attribute
{
    /// <summary>
    /// The signal's name, as journaled and as senders use it. Defaults to the method name without a leading
    /// <c>WaitFor</c> and a trailing <c>Async</c> (<c>WaitForApprovalAsync</c> → <c>Approval</c>).
    /// </summary>
    public string? Name { get; set; }
}
