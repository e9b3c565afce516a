namespace Durably.Runtime.Journal;

/// <summary>A signal sent to a run, kept until one wait of the run takes it (each signal goes to exactly one wait).</summary>
/// <param name="WorkflowId">The run it is for.</param>
/// <param name="SignalId">The sender's id for this signal: a second send with the same id is ignored.</param>
/// <param name="Name">The signal's name, which a wait asks for.</param>
/// <param name="PayloadJson">The payload, as JSON.</param>
/// <param name="SentAt">When the store accepted it.</param>
public sealed record SignalRecord(string WorkflowId, string SignalId, string Name, string PayloadJson, DateTimeOffset SentAt);

/// <summary>What became of a signal sent to a run.</summary>
public enum SignalSendOutcome
{
    /// <summary>Stored: the next wait for its name takes it, or the one waiting now.</summary>
    Accepted = 0,

    /// <summary>A signal with the same id was accepted before; nothing changed.</summary>
    Duplicate = 1,

    /// <summary>No run has that id; nothing was stored.</summary>
    RunNotFound = 2,

    /// <summary>The run has ended; nothing was stored.</summary>
    RunFinished = 3,
}
