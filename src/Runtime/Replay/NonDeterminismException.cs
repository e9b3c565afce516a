namespace Durably.Runtime.Replay;

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

/// <summary>A durable operation was called from outside the run's scheduler, where its order is not deterministic.</summary>
public sealed class OffSchedulerCallException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="operation">The call, e.g. <c>step 'Charge'</c>.</param>
    public OffSchedulerCallException(string operation)
        : base($"{operation} was called off the workflow's scheduler, so its order would not replay. Remove ConfigureAwait(false) "
            + "and Task.Run from the run method and the helpers it calls: durable operations must be awaited on the run's own context.")
        => Operation = operation;

    /// <summary>The call.</summary>
    public string Operation { get; }
}
