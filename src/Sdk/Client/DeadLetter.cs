namespace Durably;

/// <summary>
/// A dead-lettered run: parked, with nothing more done, until an operator retries or discards it (see
/// <see cref="IDurableClient.RetryDeadLetterAsync"/> and <see cref="IDurableClient.DiscardDeadLetterAsync"/>). Durably
/// never deletes one.
/// </summary>
/// <param name="Run">The run; its <see cref="WorkflowRunInfo.Error"/> says why it was parked.</param>
/// <param name="Reason">What kind of failure parked it.</param>
/// <param name="FailedOperation">
/// The step or compensation whose failure parked it — its id (<see cref="WorkflowOperationInfo.Name"/>), attempts and
/// last error — when one did; <see langword="null"/> otherwise (for example a journal that no longer matches the code).
/// </param>
public sealed record DeadLetter(WorkflowRunInfo Run, DeadLetterReason Reason, WorkflowOperationInfo? FailedOperation)
{
    /// <summary>The run's id.</summary>
    public string WorkflowId => Run.WorkflowId;

    /// <summary>When the run was parked.</summary>
    public DateTimeOffset DeadLetteredAt => Run.UpdatedAt;
}

/// <summary>What kind of failure parked a run.</summary>
public enum DeadLetterReason
{
    /// <summary>
    /// A step failed and the workflow's rule parks such failures (<see cref="FailureRule.Park"/>, or
    /// <see cref="FailureRule.Automatic"/> once the step's retries ran out): see the failed operation's attempts and error.
    /// </summary>
    StepFailed = 0,

    /// <summary>A compensation kept failing during a rollback; the rollback stopped there.</summary>
    CompensationFailed = 1,

    /// <summary>The run method no longer makes the calls its journal recorded (the code changed under a running run).</summary>
    NonDeterminism = 2,

    /// <summary>A payload in the run's input or journal cannot be read by this code (a type that changed shape).</summary>
    UnreadablePayload = 3,

    /// <summary>The run method failed with its own exception and the workflow's rule is <see cref="FailureRule.Park"/>.</summary>
    RunFailed = 4,

    /// <summary>
    /// A row of the run's journal is damaged: its kind or state is no value Durably writes. Repair or restore the row;
    /// a retry parks the run again until then.
    /// </summary>
    UnreadableJournalRow = 5,
}

/// <summary>A page of dead letters, newest first.</summary>
/// <param name="DeadLetters">The dead letters.</param>
/// <param name="NextPageToken">Pass as <see cref="WorkflowRunQuery.PageToken"/> for the next page; <see langword="null"/> on the last page.</param>
public sealed record DeadLetterPage(IReadOnlyList<DeadLetter> DeadLetters, string? NextPageToken);
