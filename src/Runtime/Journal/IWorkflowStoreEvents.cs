namespace Durably.Runtime.Journal;

/// <summary>
/// Implemented by a store that can tell this process about changes other processes made, so that idle workers and
/// callers waiting for a result need not poll. Polling stays the fallback: a store raises these events when it can,
/// and raises them with no particular run (<see langword="null"/>) after it may have missed some.
/// </summary>
public interface IWorkflowStoreEvents
{
    /// <summary>Raised when runs may have become claimable: a run was started or released.</summary>
    event Action? RunsAvailable;

    /// <summary>
    /// Raised when a run ended, with its id; with <see langword="null"/> when any run may have ended unseen. A store that
    /// also implements <see cref="IWorkflowStoreWatches"/> raises it only for runs someone watches.
    /// </summary>
    event Action<string?>? RunFinished;

    /// <summary>Raised when a run received a signal, with its id; with <see langword="null"/> when any run may have.</summary>
    event Action<string?>? RunSignalled;
}
