using Durably.Runtime.Journal;

namespace Durably.Runtime.Engine;

/// <summary>
/// This process's worker, as a start sees it: a run started here while the worker has a free slot is created already
/// held by the worker and handed to it at once — no claim, no journal read, no notification on its way to running.
/// </summary>
internal interface ILocalRunner
{
    /// <summary>The worker's name: the owner a run started for it is created with.</summary>
    string WorkerName { get; }

    /// <summary>
    /// Takes a slot for run <paramref name="workflowId"/>, about to be created; false when every slot is taken, the
    /// worker is stopping, or it holds that run already. A taken slot is given back by <see cref="Run"/> or <see cref="Unreserve"/>.
    /// </summary>
    bool TryReserve(string workflowId);

    /// <summary>Executes the run created in the slot taken for it, from <paramref name="snapshot"/> (its new row, no journal).</summary>
    void Run(RunLease lease, RunSnapshot snapshot);

    /// <summary>
    /// Whether run <paramref name="workflowId"/> is being started or executed here now. When its execution ends, the
    /// run's waiters here are told (<see cref="EngineContext.NotifyFinished(string, RunOutcome)"/> with the outcome, or
    /// <see cref="EngineContext.NotifyFinished(string?)"/> when it ended without finishing the run).
    /// </summary>
    bool IsRunning(string workflowId);

    /// <summary>Gives back the slot taken for <paramref name="workflowId"/>: the run was not created for this worker.</summary>
    void Unreserve(string workflowId);
}
