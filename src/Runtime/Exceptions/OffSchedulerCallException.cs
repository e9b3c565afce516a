namespace Durably;

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
