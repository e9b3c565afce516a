namespace Durably;

/// <summary>
/// A run's code no longer matches its journal: at <see cref="Sequence"/> the code called one operation and the
/// journal recorded another. The run is dead-lettered before any new step body runs.
/// </summary>
public sealed class NonDeterminismException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What differs, naming both operations, the sequence number and the workflow version.</param>
    /// <param name="sequence">The first sequence number that differs.</param>
    public NonDeterminismException(string message, long sequence)
        : base(message) => Sequence = sequence;

    /// <summary>The first sequence number that differs.</summary>
    public long Sequence { get; }
}
