using System.ComponentModel;
using Microsoft.Extensions.Logging;

namespace Durably.Infrastructure;

/// <summary>
/// The engine's side of one execution of a run method. The runtime implements it; <see cref="Workflow"/> and the
/// generated interceptors reach it through <see cref="Current"/>.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public abstract class WorkflowExecution
{
    private static readonly AsyncLocal<WorkflowExecution?> s_current = new();

    /// <summary>The execution whose run method is on this asynchronous flow, or <see langword="null"/>.</summary>
    public static WorkflowExecution? Current => s_current.Value;

    /// <summary>Makes <paramref name="execution"/> current for the rest of this asynchronous flow.</summary>
    /// <param name="execution">The execution, or <see langword="null"/> to clear it.</param>
    protected static void SetCurrent(WorkflowExecution? execution) => s_current.Value = execution;

    /// <summary>The run's workflow id.</summary>
    public abstract string WorkflowId { get; }

    /// <summary>The recorded time of the latest delivery. See <see cref="Workflow.Now"/>.</summary>
    /// <param name="caller">The API being used, for the error raised off the run's scheduler.</param>
    /// <returns>The deterministic current time.</returns>
    public abstract DateTimeOffset GetNow(string caller);

    /// <summary>The next deterministic GUID. See <see cref="Workflow.NewGuid"/>.</summary>
    /// <param name="caller">The API being used, for the error raised off the run's scheduler.</param>
    /// <returns>A GUID derived from the workflow id and a counter.</returns>
    public abstract Guid NewGuid(string caller);

    /// <summary>The run's deterministic random source. See <see cref="Workflow.Random"/>.</summary>
    /// <param name="caller">The API being used, for the error raised off the run's scheduler.</param>
    /// <returns>A random source seeded from the workflow id.</returns>
    public abstract Random GetRandom(string caller);

    /// <summary>Whether the run method is re-executing code an earlier execution already ran. See <see cref="Workflow.IsReplaying"/>.</summary>
    /// <param name="caller">The API being used, for the error raised off the run's scheduler.</param>
    /// <returns><see langword="true"/> while replaying.</returns>
    public abstract bool IsReplaying(string caller);

    /// <summary>The run's replay-safe logger. See <see cref="Workflow.Logger"/>.</summary>
    /// <param name="caller">The API being used, for the error raised off the run's scheduler.</param>
    /// <returns>A logger that writes nothing while the run method replays.</returns>
    public abstract ILogger GetLogger(string caller);

    /// <summary>Calls a step as a durable operation: journaled live, or answered from the journal on replay.</summary>
    /// <typeparam name="TWorkflow">The workflow class.</typeparam>
    /// <typeparam name="TInput">The step's argument record.</typeparam>
    /// <typeparam name="TOutput">The step's result.</typeparam>
    /// <param name="workflow">The workflow instance the call was made on.</param>
    /// <param name="step">The step table row.</param>
    /// <param name="input">The arguments.</param>
    /// <returns>The step's result, delivered on the run's scheduler.</returns>
    public abstract Task<TOutput> CallStepAsync<TWorkflow, TInput, TOutput>(TWorkflow workflow, StepDefinition<TWorkflow, TInput, TOutput> step, TInput input)
        where TWorkflow : class;

    /// <summary>
    /// A durable timer: journals its wake time (now plus <paramref name="delay"/>, or <paramref name="wakeAt"/>) at its
    /// sequence number and completes at that time, on whichever worker runs the run then, after any restart.
    /// </summary>
    /// <param name="delay">How long from now, when <paramref name="wakeAt"/> is null.</param>
    /// <param name="wakeAt">When, exactly; takes precedence over <paramref name="delay"/>.</param>
    /// <param name="caller">The API used, for messages.</param>
    /// <returns>A task that completes, on the run's scheduler, when the timer has fired and that is journaled.</returns>
    public abstract Task SleepAsync(TimeSpan delay, DateTimeOffset? wakeAt, string caller);

    /// <summary>A durable signal wait: journaled at its sequence number with its deadline; see <see cref="Workflow.WaitForSignalAsync{T}"/>.</summary>
    /// <typeparam name="T">The payload's type.</typeparam>
    /// <param name="name">The signal name.</param>
    /// <param name="timeout">How long to wait, or <see cref="Timeout.InfiniteTimeSpan"/>.</param>
    /// <param name="caller">The API used, for messages.</param>
    /// <returns>The payload or the timeout, delivered on the run's scheduler.</returns>
    public abstract Task<SignalResult<T>> WaitForSignalAsync<T>(string name, TimeSpan timeout, string caller);

    /// <summary>Starts a child workflow and awaits its result as a durable operation (<see cref="Workflow.RunChildAsync{TWorkflow, TInput, TOutput}(Infrastructure.WorkflowDefinition{TWorkflow, TInput, TOutput}, TInput)"/>).</summary>
    /// <typeparam name="TWorkflow">The child workflow class.</typeparam>
    /// <typeparam name="TInput">Its input.</typeparam>
    /// <typeparam name="TOutput">Its result.</typeparam>
    /// <param name="workflow">The child's definition.</param>
    /// <param name="input">The child's input.</param>
    /// <param name="options">How the child relates to the parent.</param>
    /// <param name="caller">The API called, for messages.</param>
    /// <returns>The child's result.</returns>
    public abstract Task<TOutput> RunChildAsync<TWorkflow, TInput, TOutput>(WorkflowDefinition<TWorkflow, TInput, TOutput> workflow, TInput input, ChildWorkflowOptions options, string caller)
        where TWorkflow : class;

    /// <summary>Publishes the run's status, written with its next write: see <see cref="Workflow.SetStatus{TStatus}"/>.</summary>
    /// <typeparam name="TStatus">The status's type.</typeparam>
    /// <param name="status">The status, or <see langword="null"/> to clear it.</param>
    /// <param name="caller">The API used, for messages.</param>
    public abstract void SetStatus<TStatus>(TStatus status, string caller);

    /// <summary>A patch check: see <see cref="Workflow.Patched"/>.</summary>
    /// <param name="patchId">The patch's id.</param>
    /// <param name="caller">The API used, for messages.</param>
    /// <returns>Whether to take the new branch.</returns>
    public abstract bool Patched(string patchId, string caller);

    /// <summary>A deprecated patch: see <see cref="Workflow.DeprecatePatch"/>.</summary>
    /// <param name="patchId">The patch's id.</param>
    /// <param name="caller">The API used, for messages.</param>
    public abstract void DeprecatePatch(string patchId, string caller);
}
