namespace Durably;

/// <summary>
/// A store cannot be opened, read or written: the message names the database, what the store was doing and the
/// driver's own error (kept as <see cref="Exception.InnerException"/>); <see cref="Fault"/> says what kind of failure it is.
/// </summary>
public sealed class DurableStoreException : Exception
{
    /// <summary>Creates the exception, of kind <see cref="StoreFault.Fatal"/>.</summary>
    /// <param name="message">Which database, and what is wrong with it.</param>
    /// <param name="inner">The driver's exception.</param>
#pragma warning disable RS0027 // Shipped with its optional parameter; the overload with a fault came later, without one, so no call becomes ambiguous.
    public DurableStoreException(string message, Exception? inner = null)
#pragma warning restore RS0027
        : this(message, StoreFault.Fatal, inner)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Which database, and what is wrong with it.</param>
    /// <param name="fault">What kind of failure it is.</param>
    /// <param name="inner">The driver's exception.</param>
    public DurableStoreException(string message, StoreFault fault, Exception? inner)
        : base(message, inner)
    {
        Fault = fault;
    }

    /// <summary>What kind of failure this is: whether it may pass by itself, and what a person should look at.</summary>
    public StoreFault Fault { get; }
}
