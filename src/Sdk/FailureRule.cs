namespace Durably;

/// <summary>
/// What happens to a run whose run method fails (throws, including a <see cref="StepFailedException"/> it does not
/// catch). Set per workflow with <see cref="DurableWorkflowAttribute.OnFailure"/>.
/// </summary>
public enum FailureRule
{
    /// <summary>
    /// <see cref="Park"/> when the failure is a step whose retries ran out on an error its policy retries (the service
    /// may come back: an operator can retry the run), <see cref="Compensate"/> for every other failure (an error the
    /// policy does not retry, or the run method's own exception).
    /// </summary>
    Automatic = 0,

    /// <summary>
    /// The engine runs the compensations of the steps that completed (and of those whose outcome is unknown, such as a
    /// timed-out attempt), in reverse completion order, after attempts in flight have settled — each journaled and
    /// retried on its own — and then ends the run <see cref="WorkflowStatus.Failed"/>.
    /// </summary>
    Compensate = 1,

    /// <summary>The run goes to dead letter (<see cref="WorkflowStatus.DeadLettered"/>) with nothing compensated, for an operator.</summary>
    Park = 2,
}
