namespace Durably.Runtime.Journal;

/// <summary>How exceptions are journaled.</summary>
internal static class WorkflowErrors
{
    /// <summary>The longest exception message journaled whole.</summary>
    public const int MaxMessageLength = 8192;

    /// <summary>
    /// The journaled form of an exception: its type name and message, the message made storable — U+0000 (which
    /// PostgreSQL text cannot hold) becomes U+FFFD, and beyond <see cref="MaxMessageLength"/> characters it is cut,
    /// saying how long it was.
    /// </summary>
    public static WorkflowError ToError(Exception exception)
    {
        var message = exception.Message.Replace('\0', '\uFFFD');
        if (message.Length > MaxMessageLength)
        {
            message = $"{message[..MaxMessageLength]}… (cut; {message.Length} characters in all)";
        }

        return new(exception.GetType().FullName ?? exception.GetType().Name, message);
    }
}
