namespace Durably;

/// <summary>A start reused a workflow id with another workflow or another input.</summary>
public sealed class WorkflowConflictException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="workflowId">The reused id.</param>
    /// <param name="message">What differs.</param>
    public WorkflowConflictException(string workflowId, string message)
        : base(message) => WorkflowId = workflowId;

    /// <summary>The reused id.</summary>
    public string WorkflowId { get; }
}

/// <summary>No run has the given workflow id.</summary>
public sealed class WorkflowNotFoundException : KeyNotFoundException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="workflowId">The id that was looked up.</param>
    public WorkflowNotFoundException(string workflowId)
        : base($"No workflow run has id '{workflowId}'.") => WorkflowId = workflowId;

    /// <summary>The id that was looked up.</summary>
    public string WorkflowId { get; }
}

/// <summary>A run ended without a result: it failed, was dead-lettered or was cancelled (see <see cref="Status"/>).</summary>
public sealed class WorkflowFailedException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="workflowId">The run's id.</param>
    /// <param name="status">How it ended.</param>
    /// <param name="error">The journaled error.</param>
    public WorkflowFailedException(string workflowId, WorkflowStatus status, WorkflowError? error)
        : base($"Workflow run '{workflowId}' ended {status}: {error?.ToString() ?? "no error recorded"}")
    {
        WorkflowId = workflowId;
        Status = status;
        Error = error;
    }

    /// <summary>The run's id.</summary>
    public string WorkflowId { get; }

    /// <summary>How it ended.</summary>
    public WorkflowStatus Status { get; }

    /// <summary>The journaled error.</summary>
    public WorkflowError? Error { get; }
}

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

/// <summary>The run has ended, so it cannot take what was sent to it (nothing was stored).</summary>
public sealed class WorkflowNotRunningException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="workflowId">The run.</param>
    /// <param name="what">What was refused, e.g. "signal 'approve'".</param>
    public WorkflowNotRunningException(string workflowId, string what)
        : base($"Run '{workflowId}' has ended; it cannot take {what}, which was not stored.")
    {
        WorkflowId = workflowId;
    }

    /// <summary>The run.</summary>
    public string WorkflowId { get; }
}

/// <summary>
/// A single-instance start, or a dead letter's retry, was refused because an active run of the workflow already holds
/// the instance key; nothing was started or changed.
/// </summary>
public sealed class WorkflowInstanceActiveException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="workflowName">The workflow.</param>
    /// <param name="instanceKey">The key.</param>
    /// <param name="activeWorkflowId">The active run that holds it.</param>
    public WorkflowInstanceActiveException(string workflowName, string instanceKey, string activeWorkflowId)
        : base($"Instance key '{instanceKey}' of workflow '{workflowName}' is held by active run '{activeWorkflowId}'; at most one run per key may be active. Nothing was started.")
    {
        WorkflowName = workflowName;
        InstanceKey = instanceKey;
        ActiveWorkflowId = activeWorkflowId;
    }

    /// <summary>The workflow.</summary>
    public string WorkflowName { get; }

    /// <summary>The key.</summary>
    public string InstanceKey { get; }

    /// <summary>The active run that holds the key.</summary>
    public string ActiveWorkflowId { get; }
}

/// <summary>A dead-letter operation (retry, discard) was asked of a run that is not dead-lettered; nothing changed.</summary>
public sealed class WorkflowNotDeadLetteredException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="workflowId">The run.</param>
    /// <param name="status">Its status.</param>
    /// <param name="operation">What was refused, e.g. "retried".</param>
    public WorkflowNotDeadLetteredException(string workflowId, WorkflowStatus status, string operation)
        : base($"Run '{workflowId}' is {status}, not {WorkflowStatus.DeadLettered}; only a dead-lettered run can be {operation}. Nothing changed.")
    {
        WorkflowId = workflowId;
        Status = status;
    }

    /// <summary>The run.</summary>
    public string WorkflowId { get; }

    /// <summary>Its status when the operation was refused.</summary>
    public WorkflowStatus Status { get; }
}

/// <summary>
/// Thrown by a run method to end its run and continue as a fresh run: create it with
/// <see cref="Workflow.ContinueAsNew{TInput}(TInput)"/>. Not an error: the engine ends the run
/// <see cref="WorkflowStatus.ContinuedAsNew"/>.
/// </summary>
public sealed class ContinueAsNewException : Exception
{
    internal ContinueAsNewException(object? input, Type inputType)
        : base($"The run continues as new with a {inputType.Name} input. Throw this from the run method and do not catch it.")
    {
        Input = input;
        InputType = inputType;
    }

    /// <summary>The new run's input.</summary>
    public object? Input { get; }

    /// <summary>The type the input was given as.</summary>
    public Type InputType { get; }
}

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
