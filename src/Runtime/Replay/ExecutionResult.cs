
namespace Durably.Runtime;

/// <summary>What one execution of a run did.</summary>
public enum ExecutionOutcome
{
    /// <summary>The run ended: completed, failed or dead-lettered (see <see cref="ExecutionResult.Status"/>).</summary>
    Finished = 0,

    /// <summary>The run had already ended; nothing was executed.</summary>
    AlreadyFinished = 1,

    /// <summary>Another worker holds the run; nothing was executed.</summary>
    NotClaimed = 2,

    /// <summary>The execution was stopped (shutdown) and the run released for another execution.</summary>
    Abandoned = 3,

    /// <summary>Another worker took the run over; this execution stopped without writing.</summary>
    Fenced = 4,

    /// <summary>
    /// The run is waiting (timers, signals) longer than <see cref="DurableOptions.UnloadThreshold"/>: it was unloaded and
    /// released, and is resumed by replay when a wait ends or a signal arrives.
    /// </summary>
    Unloaded = 5,
}

/// <summary>The result of <see cref="DurableEngine.ExecuteAsync"/>.</summary>
/// <param name="WorkflowId">The run.</param>
/// <param name="Outcome">What the execution did.</param>
/// <param name="Status">The run's status afterwards.</param>
/// <param name="Error">The run's error, if it failed or was dead-lettered.</param>
public sealed record ExecutionResult(string WorkflowId, ExecutionOutcome Outcome, WorkflowStatus Status, WorkflowError? Error);
