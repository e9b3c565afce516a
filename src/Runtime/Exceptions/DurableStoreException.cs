namespace Durably;

/// <summary>A store cannot be opened or written: the message names the database and the reason.</summary>
public sealed class DurableStoreException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Which database, and what is wrong with it.</param>
    /// <param name="inner">The driver's exception.</param>
    public DurableStoreException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}
