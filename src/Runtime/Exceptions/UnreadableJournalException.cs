namespace Durably;

/// <summary>
/// A row of a run's journal is not one this code can read — its kind or state is a value no version of Durably
/// writes (the row was damaged or edited by hand): the run is parked as a dead letter, nothing is run again.
/// </summary>
public sealed class UnreadableJournalException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Which run, which row and what is wrong with it.</param>
    /// <param name="sequence">The row's sequence number.</param>
    public UnreadableJournalException(string message, long sequence)
        : base(message) => Sequence = sequence;

    /// <summary>The unreadable row's sequence number.</summary>
    public long Sequence { get; }
}
