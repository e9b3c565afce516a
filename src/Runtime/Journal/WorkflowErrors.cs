namespace Durably.Runtime.Journal;

/// <summary>How exceptions are journaled.</summary>
internal static class WorkflowErrors
{
    /// <summary>The longest exception message journaled whole.</summary>
    public const int MaxMessageLength = 8192;

    /// <summary>
    /// The journaled form of an exception: its type name and message, the message made storable — U+0000 (which
    /// PostgreSQL text cannot hold) and lone UTF-16 surrogates (which have no UTF-8 form) become U+FFFD, and beyond <see cref="MaxMessageLength"/> characters it is cut,
    /// saying how long it was.
    /// </summary>
    public static WorkflowError ToError(Exception exception)
    {
        var message = StorableText.Clean(exception.Message);
        if (message.Length > MaxMessageLength)
        {
            message = $"{message[..MaxMessageLength]}… (cut; {message.Length} characters in all)";
        }

        return new(exception.GetType().FullName ?? exception.GetType().Name, message);
    }
}

/// <summary>Text every store keeps as it is: no U+0000 (PostgreSQL text cannot hold it) and no lone UTF-16 surrogate (no UTF-8 form).</summary>
internal static class StorableText
{
    /// <summary>The position of the first character no store keeps, or -1 when there is none.</summary>
    public static int FindUnstorable(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (text[i] == '\0' || char.IsSurrogate(text[i]))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>The text with every character no store keeps replaced by U+FFFD.</summary>
    public static string Clean(string text)
    {
        var bad = FindUnstorable(text);
        if (bad < 0)
        {
            return text;
        }

        var chars = text.ToCharArray();
        for (var i = bad; i < chars.Length; i++)
        {
            if (char.IsHighSurrogate(chars[i]) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1]))
            {
                i++;
            }
            else if (chars[i] == '\0' || char.IsSurrogate(chars[i]))
            {
                chars[i] = '\uFFFD';
            }
        }

        return new string(chars);
    }

    /// <summary>Names a character no store keeps, for messages: "U+0000" or "a lone UTF-16 surrogate U+D800".</summary>
    public static string Describe(char c) => c == '\0' ? "U+0000" : $"a lone UTF-16 surrogate U+{(int)c:X4}";
}
