namespace Durably;

/// <summary>What <see cref="IDurableClient.CancelAsync"/> did.</summary>
public enum CancelResult
{
    /// <summary>
    /// The cancel is recorded: the engine stops the run at its next durable operation (waking it if it waits), cancels
    /// the token of any step in flight, and ends it <see cref="WorkflowStatus.Cancelled"/>.
    /// </summary>
    Requested = 0,

    /// <summary>A cancel was requested before and the run is being stopped; nothing changed (the first reason stands).</summary>
    AlreadyRequested = 1,

    /// <summary>The run had already ended (see its status); nothing changed.</summary>
    AlreadyEnded = 2,
}
