namespace Durably.Runtime.Journal;

/// <summary>The kind of durable operation a journal row records.</summary>
public enum OperationKind
{
    /// <summary>A <c>[Step]</c> call.</summary>
    Step = 0,

    /// <summary>A durable timer (<c>Workflow.SleepAsync</c>, <c>Workflow.SleepUntilAsync</c>); its input is the wake time.</summary>
    Timer = 1,

    /// <summary>
    /// A signal wait (<c>Workflow.WaitForSignalAsync</c>): its id is the signal name, its input the deadline (or null);
    /// completed with the signal's payload as output, or with no output when the deadline passed first.
    /// </summary>
    Signal = 2,

    /// <summary>
    /// The compensation of the step at sequence <c>-(Sequence + 1)</c>, run by the engine when the run is rolled back:
    /// its own key space, so it never meets an operation of the run method; its id and input are the step's.
    /// </summary>
    Compensation = 3,

    /// <summary>
    /// A patch marker (<c>Workflow.Patched(id)</c>): the run reached the patch live and took its new branch. Written
    /// completed, before the branch's first operation; never delivered to the run method, only checked at its sequence.
    /// </summary>
    Patch = 4,

    /// <summary>
    /// A child workflow (<c>Workflow.RunChildAsync</c>): its id is the child's workflow name, its input the child run's id
    /// (as JSON); completed with the child's result, or failed with the child's error.
    /// </summary>
    Child = 5,
}

/// <summary>Where a journal row stands. A row moves <c>Attempting → Completed | Failed</c>; a terminal state is written once.</summary>
public enum JournalEntryState
{
    /// <summary>A body attempt started and has not been recorded as finished.</summary>
    Attempting = 0,

    /// <summary>The operation finished with a result.</summary>
    Completed = 1,

    /// <summary>The operation finished with an error.</summary>
    Failed = 2,
}

/// <summary>One row of a run's journal: the outcome of the durable operation with sequence number <see cref="Sequence"/>.</summary>
/// <param name="WorkflowId">The run.</param>
/// <param name="Sequence">The operation's sequence number, taken when the run method called it.</param>
/// <param name="OperationId">The operation's stable id (a step's id).</param>
/// <param name="Kind">The operation's kind.</param>
/// <param name="State">Where the row stands.</param>
/// <param name="InputJson">The operation's input, as JSON.</param>
/// <param name="OutputJson">The result, as JSON, once <see cref="JournalEntryState.Completed"/>.</param>
/// <param name="Error">The error, once <see cref="JournalEntryState.Failed"/>.</param>
/// <param name="Attempts">How many body attempts started.</param>
/// <param name="CompletionIndex">The order in which the outcome was delivered to the run method; set with the terminal state.</param>
/// <param name="StartedAt">When the first attempt started.</param>
/// <param name="CompletedAt">When the terminal state was recorded.</param>
/// <param name="RetryAt">
/// While <see cref="JournalEntryState.Attempting"/>: when the next attempt is due after a failed one (its error is
/// <see cref="Error"/>), journaled so that a restart neither loses nor shortens the backoff; otherwise <see langword="null"/>.
/// </param>
public sealed record JournalEntry(
    string WorkflowId,
    long Sequence,
    string OperationId,
    OperationKind Kind,
    JournalEntryState State,
    string? InputJson,
    string? OutputJson,
    WorkflowError? Error,
    int Attempts,
    long? CompletionIndex,
    DateTimeOffset StartedAt,
    DateTimeOffset? CompletedAt,
    DateTimeOffset? RetryAt = null)
{
    /// <summary>
    /// The key a step's or compensation's body gets for this row (<see cref="StepContext.IdempotencyKey"/>), the same for
    /// every attempt; null for waits and markers.
    /// </summary>
    internal string? IdempotencyKey => Kind switch
    {
        OperationKind.Step => StepContext.CreateIdempotencyKey(WorkflowId, OperationId, Sequence),
        OperationKind.Compensation => StepContext.CreateIdempotencyKey(WorkflowId, OperationId, StepSequenceOf(Sequence)) + StepContext.CompensationKeySuffix,
        _ => null,
    };

    /// <summary>Whether the row holds an outcome.</summary>
    public bool IsTerminal => State is JournalEntryState.Completed or JournalEntryState.Failed;

    /// <summary>The row of an operation reached for the first time: attempting, no attempt made yet.</summary>
    /// <param name="workflowId">The run.</param>
    /// <param name="sequence">The operation's sequence number.</param>
    /// <param name="operationId">The operation's stable id.</param>
    /// <param name="kind">The operation's kind.</param>
    /// <param name="inputJson">The operation's input, as JSON.</param>
    /// <param name="startedAt">When it was reached.</param>
    /// <returns>The row to journal with the first attempt.</returns>
    public static JournalEntry Attempting(string workflowId, long sequence, string operationId, OperationKind kind, string? inputJson, DateTimeOffset startedAt)
        => new(workflowId, sequence, operationId, kind, JournalEntryState.Attempting, inputJson, null, null, 0, null, startedAt, null);

    /// <summary>
    /// The sequence of the compensation of the step call at <paramref name="stepSequence"/>: <c>-(stepSequence + 1)</c>,
    /// a key space of its own that no operation of the run method ever meets.
    /// </summary>
    /// <param name="stepSequence">The step call's sequence (0 or more).</param>
    /// <returns>The compensation's sequence (below 0).</returns>
    public static long CompensationSequenceOf(long stepSequence) => -(stepSequence + 1);

    /// <summary>The step call a row stands for: its own sequence, or for a compensation's row, the sequence of the step it undoes.</summary>
    /// <param name="sequence">A journal sequence.</param>
    /// <returns>The step call's sequence.</returns>
    public static long StepSequenceOf(long sequence) => sequence >= 0 ? sequence : -sequence - 1;
}
