namespace Durably;

/// <summary>
/// A step attempt did not finish within the step's <see cref="StepAttribute.Timeout"/>. It counts as a failed attempt
/// (retried by the step's policy like any other); its outcome is unknown, since the body may have done its work or may
/// still be doing it.
/// </summary>
/// <remarks>
/// The timeout is delivered through the step's <see cref="CancellationToken"/>. A body that ignores its token keeps
/// running after the timeout, and whatever it returns or throws later is discarded.
/// </remarks>
public sealed class StepTimeoutException : TimeoutException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="stepId">The step's stable id.</param>
    /// <param name="attempt">The attempt that timed out, from 1.</param>
    /// <param name="timeout">The step's timeout.</param>
    /// <param name="innerException">What reported the timeout.</param>
    public StepTimeoutException(string stepId, int attempt, TimeSpan timeout, Exception? innerException = null)
        : base($"Attempt {attempt} of step '{stepId}' did not finish within its timeout of {timeout}; its outcome is unknown.", innerException)
    {
        StepId = stepId;
        Attempt = attempt;
        Timeout = timeout;
    }

    /// <summary>The step's stable id.</summary>
    public string StepId { get; }

    /// <summary>The attempt that timed out, from 1.</summary>
    public int Attempt { get; }

    /// <summary>The step's timeout.</summary>
    public TimeSpan Timeout { get; }
}
