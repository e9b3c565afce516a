namespace Durably;

/// <summary>Where a run stands.</summary>
public enum WorkflowStatus
{
    /// <summary>Started and not finished: executing, waiting for a worker, or waiting on a durable operation.</summary>
    Running = 0,

    /// <summary>The run method returned; its result is journaled.</summary>
    Completed = 1,

    /// <summary>The run method threw; the error is journaled.</summary>
    Failed = 2,

    /// <summary>Stopped for an operator, nothing compensated: e.g. its code no longer matches its journal.</summary>
    DeadLettered = 3,

    /// <summary>
    /// The run method continued as new (<see cref="Workflow.ContinueAsNew{TInput}(TInput)"/>): this run ended and
    /// <see cref="WorkflowRunInfo.ContinuedAs"/> carries on. Clients follow it to the newest run.
    /// </summary>
    ContinuedAsNew = 4,

    /// <summary>
    /// Cancelled through <see cref="IDurableClient.CancelAsync"/>: the engine stopped the run at its next durable
    /// operation and cancelled the token of any step in flight. The reason is kept as the run's error message.
    /// </summary>
    Cancelled = 5,
}
