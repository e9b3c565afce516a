namespace Durably;

/// <summary>
/// A step failed. Thrown into the run method, identically when the step runs live and when its failure is replayed
/// from the journal: only the original exception's type name and message survive, never the object.
/// </summary>
public sealed class StepFailedException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="stepId">The step's stable id.</param>
    /// <param name="sequence">The operation's sequence number.</param>
    /// <param name="error">The journaled error.</param>
    public StepFailedException(string stepId, long sequence, WorkflowError error)
        : base($"Step '{stepId}' (sequence {sequence}) failed: {error}")
    {
        ArgumentNullException.ThrowIfNull(error);
        StepId = stepId;
        Sequence = sequence;
        Error = error;
    }

    /// <summary>The step's stable id.</summary>
    public string StepId { get; }

    /// <summary>The operation's sequence number.</summary>
    public long Sequence { get; }

    /// <summary>The original exception's type name and message.</summary>
    public WorkflowError Error { get; }
}
