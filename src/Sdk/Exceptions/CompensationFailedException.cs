namespace Durably;

/// <summary>
/// A compensation (<see cref="StepAttribute.Compensate"/>) could not undo its step: it failed after its retries, or it
/// needs the step's result and the step's outcome is unknown. The run is parked as a dead letter for an operator.
/// </summary>
public sealed class CompensationFailedException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What could not be undone and why.</param>
    /// <param name="stepId">The step whose compensation failed.</param>
    /// <param name="sequence">The step call's sequence number.</param>
    public CompensationFailedException(string message, string stepId, long sequence)
        : base(message)
    {
        StepId = stepId;
        Sequence = sequence;
    }

    /// <summary>The step whose compensation failed.</summary>
    public string StepId { get; }

    /// <summary>The step call's sequence number.</summary>
    public long Sequence { get; }
}
