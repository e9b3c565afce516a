namespace Durably;

/// <summary>A journaled value could not be written or read: the message names the value, its type and the reason.</summary>
public sealed class PayloadException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed and why.</param>
    /// <param name="payloadType">The value's type.</param>
    /// <param name="inner">The serialiser's exception.</param>
    public PayloadException(string message, Type payloadType, Exception? inner = null)
        : base(message, inner) => PayloadType = payloadType;

    /// <summary>The value's type.</summary>
    public Type PayloadType { get; }
}
