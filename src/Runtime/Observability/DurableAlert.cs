
namespace Durably.Runtime;

/// <summary>Something about a run that someone should find out about.</summary>
public enum DurableAlertKind
{
    /// <summary>The run ended <see cref="WorkflowStatus.Failed"/> (after its rollback, when it has compensations).</summary>
    RunFailed = 0,

    /// <summary>The run was parked (<see cref="WorkflowStatus.DeadLettered"/>) for an operator to retry or discard.</summary>
    RunDeadLettered = 1,

    /// <summary>
    /// A worker took the run over from one that still held it — crashed, stalled past its lease, or restarted under the
    /// same name — and resumes it from its journal.
    /// </summary>
    RunRecovered = 2,

    /// <summary>
    /// Runs of a workflow version wait for a worker and this worker cannot run them (its build does not register that
    /// version): said once per version and worker. <see cref="DurableAlert.WorkflowId"/> is empty — the alert is about
    /// the version — and <see cref="DurableAlert.Error"/> says how many runs wait and what to deploy.
    /// </summary>
    RunsWaitingForWorker = 3,
}

/// <summary>An alert, as the alert sinks receive it. Fired once per journaled transition, by the worker that made it.</summary>
/// <param name="Kind">What happened.</param>
/// <param name="WorkflowId">The run's id.</param>
/// <param name="WorkflowName">Its workflow.</param>
/// <param name="WorkflowVersion">Its workflow version.</param>
/// <param name="Status">The run's status after the transition.</param>
/// <param name="Error">Why it failed or was parked; <see langword="null"/> for a recovery.</param>
/// <param name="FailedStep">The step (or the step whose compensation) whose failure ended the run, when one did.</param>
/// <param name="FailedSequence">That operation's journal sequence (negative for a compensation).</param>
/// <param name="Worker">The worker that made the transition.</param>
/// <param name="PreviousWorker">For <see cref="DurableAlertKind.RunRecovered"/>: the worker that held the run before.</param>
/// <param name="At">When, by the engine's clock.</param>
public sealed record DurableAlert(
    DurableAlertKind Kind,
    string WorkflowId,
    string WorkflowName,
    int WorkflowVersion,
    WorkflowStatus Status,
    WorkflowError? Error,
    string? FailedStep,
    long? FailedSequence,
    string Worker,
    string? PreviousWorker,
    DateTimeOffset At)
{
    /// <summary>One line for people: what happened to which run, and why.</summary>
    public string Summary => Kind switch
    {
        DurableAlertKind.RunRecovered => $"Run '{WorkflowId}' of workflow '{WorkflowName}' v{WorkflowVersion} was recovered by worker '{Worker}' from worker '{PreviousWorker}'.",
        DurableAlertKind.RunsWaitingForWorker => Error?.Message ?? $"Runs of workflow '{WorkflowName}' v{WorkflowVersion} wait for a worker that can run them.",
        _ => $"Run '{WorkflowId}' of workflow '{WorkflowName}' v{WorkflowVersion} ended {Status} {Where}" + (Error is null ? "." : $": {Error}"),
    };

    /// <summary>
    /// Where the run failed, for people: <c>at step 'Charge' (sequence 2)</c> for a step or a compensation, otherwise
    /// <c>in its run method</c> — the run method threw, or its journal or input could not be read.
    /// </summary>
    public string Where => FailedStep is { } step ? $"at step '{step}' (sequence {FailedSequence})" : "in its run method, outside any step";
}

/// <summary>
/// Receives alerts. Register with <c>AddDurably().AddAlertSink&lt;T&gt;()</c>; a log sink is always registered and
/// <c>AddWebhookAlerts(url)</c> adds an HTTP one. Sinks run in the background, one alert at a time, each call bounded by
/// <see cref="DurableOptions.AlertTimeout"/>: a slow or failing sink never delays or breaks a run (its failure is logged).
/// </summary>
public interface IDurableAlertSink
{
    /// <summary>Delivers one alert.</summary>
    /// <param name="alert">The alert.</param>
    /// <param name="cancellationToken">Fires when the sink's time is up or the application stops.</param>
    /// <returns>A task that completes once delivered.</returns>
    Task SendAsync(DurableAlert alert, CancellationToken cancellationToken);
}
