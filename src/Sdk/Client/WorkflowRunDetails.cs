namespace Durably;

/// <summary>A run's state with its journal: what it finished, what it is doing now, and its result or error.</summary>
/// <param name="Run">The run's state.</param>
/// <param name="OutputJson">The result as JSON, once <see cref="WorkflowStatus.Completed"/>; else <see langword="null"/>.</param>
/// <param name="Operations">Every durable operation the journal holds, by sequence number, without their payloads.</param>
/// <param name="Worker">The worker that holds the run now, else <see langword="null"/> (waiting for a worker, unloaded, or ended).</param>
/// <param name="IsUnloaded">Whether the run only waits and no worker holds it in memory.</param>
/// <param name="WakeAt">When an unloaded run is due again; <see langword="null"/> when only a signal (or a cancel) wakes it, or it is not unloaded.</param>
public sealed record WorkflowRunDetails(
    WorkflowRunInfo Run,
    string? OutputJson,
    IReadOnlyList<WorkflowOperationInfo> Operations,
    string? Worker,
    bool IsUnloaded,
    DateTimeOffset? WakeAt)
{
    /// <summary>The run's input as JSON, as it was started.</summary>
    public string? InputJson { get; init; }

    /// <summary>The run that started this one as a child (<see cref="Workflow.RunChildAsync{TWorkflow, TInput, TOutput}(Infrastructure.WorkflowDefinition{TWorkflow, TInput, TOutput}, TInput)"/>); null for a run started by a client.</summary>
    public string? ParentWorkflowId { get; init; }

    /// <summary>The child runs this run started, in the order of its journal.</summary>
    public IReadOnlyList<string> ChildWorkflowIds { get; init; } = [];

    /// <summary>
    /// The status the run published last (<see cref="Workflow.SetStatus{TStatus}"/>), as JSON; null when it published
    /// none. Read it typed with <see cref="WorkflowClient{TOutput}.GetProgressAsync{TStatus}"/>.
    /// </summary>
    public string? StatusJson { get; init; }

    /// <summary>When <see cref="StatusJson"/> was written; null when the run published no status.</summary>
    public DateTimeOffset? StatusUpdatedAt { get; init; }

    /// <summary>The operations in progress — steps running, timers and signal waits waiting — by sequence number.</summary>
    public IReadOnlyList<WorkflowOperationInfo> CurrentOperations => [.. Operations.Where(o => o.State == WorkflowOperationState.InProgress)];

    /// <summary>The operation whose outcome the run method received last, else <see langword="null"/>.</summary>
    public WorkflowOperationInfo? LastCompleted => Operations.Where(o => o.State != WorkflowOperationState.InProgress).MaxBy(o => o.CompletionIndex);

    /// <summary>
    /// The ids of the patches whose new branch this run took (<see cref="Workflow.Patched"/>), in the order it reached
    /// them; a patch the run passed on the code before it has no marker and is not listed.
    /// </summary>
    public IReadOnlyList<string> Patches => [.. Operations.Where(o => o.Kind == WorkflowOperationKind.Patch).Select(o => o.Name)];

    /// <summary>Counts over the journal.</summary>
    public JournalSummary Summary => new(
        Operations.Count,
        Operations.Count(o => o.State == WorkflowOperationState.Completed),
        Operations.Count(o => o.State == WorkflowOperationState.Failed),
        Operations.Count(o => o.State == WorkflowOperationState.InProgress),
        Operations.Count(o => o.Kind == WorkflowOperationKind.Step),
        Operations.Count(o => o.Kind == WorkflowOperationKind.Timer),
        Operations.Count(o => o.Kind == WorkflowOperationKind.Signal),
        Operations.Sum(o => (long)o.Attempts));
}

/// <summary>Counts over a run's journal.</summary>
/// <param name="Operations">Journal rows.</param>
/// <param name="Completed">Operations that completed.</param>
/// <param name="Failed">Operations that failed.</param>
/// <param name="InProgress">Operations in progress.</param>
/// <param name="Steps">Step calls.</param>
/// <param name="Timers">Durable timers.</param>
/// <param name="Signals">Signal waits.</param>
/// <param name="Attempts">Step body attempts started, over all steps.</param>
public sealed record JournalSummary(int Operations, int Completed, int Failed, int InProgress, int Steps, int Timers, int Signals, long Attempts);

/// <summary>One durable operation of a run, as its journal row records it.</summary>
/// <param name="Sequence">Its sequence number in the run.</param>
/// <param name="Name">The step's id, <c>sleep</c> for a timer, or the signal's name.</param>
/// <param name="Kind">Step, timer or signal wait.</param>
/// <param name="State">In progress, completed or failed.</param>
/// <param name="Attempts">How many body attempts started (steps).</param>
/// <param name="StartedAt">When it was first reached.</param>
/// <param name="CompletedAt">When its outcome was recorded.</param>
/// <param name="CompletionIndex">The order in which the run method received its outcome; <see langword="null"/> while in progress.</param>
/// <param name="DueAt">A timer's wake time or a signal wait's deadline; <see langword="null"/> for steps and waits without deadline.</param>
/// <param name="Error">Why it failed.</param>
public sealed record WorkflowOperationInfo(
    long Sequence,
    string Name,
    WorkflowOperationKind Kind,
    WorkflowOperationState State,
    int Attempts,
    DateTimeOffset StartedAt,
    DateTimeOffset? CompletedAt,
    long? CompletionIndex,
    DateTimeOffset? DueAt,
    WorkflowError? Error)
{
    /// <summary>Its input as journaled JSON: a step's arguments, a timer's wake time, a signal wait's deadline.</summary>
    public string? InputJson { get; init; }

    /// <summary>Its outcome as journaled JSON: a step's result, a signal's payload (null when the wait timed out).</summary>
    public string? OutputJson { get; init; }

    /// <summary>While a step waits out a backoff: when its next attempt is due (after the failed one in <see cref="Error"/>).</summary>
    public DateTimeOffset? RetryAt { get; init; }

    /// <summary>The progress a step in progress reported last (<see cref="StepContext.ReportProgress"/>); null when it reported none or is no longer in progress.</summary>
    public StepProgress? Progress { get; init; }

    /// <summary>The key a step's or compensation's body gets (<see cref="StepContext.IdempotencyKey"/>), the same for every attempt; null for waits and markers.</summary>
    public string? IdempotencyKey { get; init; }
}

/// <summary>The kind of a durable operation.</summary>
public enum WorkflowOperationKind
{
    /// <summary>A <c>[Step]</c> call.</summary>
    Step = 0,

    /// <summary>A durable timer.</summary>
    Timer = 1,

    /// <summary>A wait for a signal.</summary>
    Signal = 2,

    /// <summary>
    /// The compensation of a step (<see cref="StepAttribute.Compensate"/>), run by the engine when the run is rolled
    /// back; its sequence is <c>-(step's sequence + 1)</c> and its id the step's.
    /// </summary>
    Compensation = 3,

    /// <summary>A patch marker (<see cref="Workflow.Patched"/>): the run took the new branch of the patch named by its id.</summary>
    Patch = 4,

    /// <summary>A child workflow started and awaited (<see cref="Workflow.RunChildAsync{TWorkflow, TInput, TOutput}(Infrastructure.WorkflowDefinition{TWorkflow, TInput, TOutput}, TInput)"/>); its input is the child run's id.</summary>
    Child = 5,
}

/// <summary>Where a durable operation stands.</summary>
public enum WorkflowOperationState
{
    /// <summary>Running (a step) or waiting (a timer or signal wait).</summary>
    InProgress = 0,

    /// <summary>Finished with a result (a signal wait that timed out also completed, with no payload).</summary>
    Completed = 1,

    /// <summary>Finished with an error.</summary>
    Failed = 2,
}

/// <summary>How far a step in progress has come, as it reported (<see cref="StepContext.ReportProgress"/>).</summary>
/// <param name="Fraction">How much is done, from 0 to 1.</param>
/// <param name="Message">What it said it is doing, if anything.</param>
/// <param name="ReportedAt">When the report was written (reports are throttled, so a later one may be on its way).</param>
public sealed record StepProgress(double Fraction, string? Message, DateTimeOffset ReportedAt);

/// <summary>
/// How far a run has come: the status it published (<see cref="Workflow.SetStatus{TStatus}"/>), read as
/// <typeparamref name="TStatus"/>, and the progress of its steps in progress.
/// </summary>
/// <typeparam name="TStatus">The status's type, as the run method publishes it.</typeparam>
/// <param name="WorkflowId">The run's id.</param>
/// <param name="RunStatus">Where the run stands: running, completed, …</param>
/// <param name="HasStatus">Whether the run has published a status.</param>
/// <param name="Status">The status; <see langword="default"/> when <paramref name="HasStatus"/> is false.</param>
/// <param name="StatusUpdatedAt">When the status was written.</param>
/// <param name="Steps">The steps in progress, with the progress each reported (<see cref="WorkflowOperationInfo.Progress"/>), by sequence.</param>
public sealed record WorkflowProgress<TStatus>(
    string WorkflowId,
    WorkflowStatus RunStatus,
    bool HasStatus,
    TStatus? Status,
    DateTimeOffset? StatusUpdatedAt,
    IReadOnlyList<WorkflowOperationInfo> Steps);
