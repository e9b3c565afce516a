namespace Durably.Runtime.Client;

/// <summary>The client's checks of what callers pass: ids and reasons that every store can keep, refused with the problem named.</summary>
internal static class ClientArguments
{
    /// <summary>Throws unless <paramref name="reason"/> (of a cancel or discard) fits every store.</summary>
    public static void ValidateReason(string workflowId, string? reason, string what)
    {
        if (reason is null)
        {
            return;
        }

        if (reason.Length > DurableOptions.MaxCancelReasonLength)
        {
            throw new ArgumentException(
                $"The {what} reason for run '{workflowId}' is {reason.Length} characters long; the limit is {DurableOptions.MaxCancelReasonLength}.", nameof(reason));
        }

        if (reason.IndexOf('\0', StringComparison.Ordinal) is var nul and >= 0)
        {
            // PostgreSQL text cannot hold U+0000 and SQLite cuts a string there: refuse it rather than lose the rest.
            throw new ArgumentException($"The {what} reason for run '{workflowId}' contains U+0000 at position {nul}, which no store can keep.", nameof(reason));
        }
    }

    /// <summary>Throws, naming the id, unless it is 1 to 256 characters with no control characters.</summary>
    public static void ValidateId(string id, string what, string parameter)
    {
        ArgumentNullException.ThrowIfNull(id, parameter);
        if (id.Length == 0 || string.IsNullOrWhiteSpace(id))
        {
            throw new ArgumentException($"A {what} must not be empty or blank.", parameter);
        }

        if (id.Length > DurableOptions.MaxWorkflowIdLength)
        {
            throw new ArgumentException(
                $"{char.ToUpperInvariant(what[0])}{what[1..]} '{id[..32]}…' is {id.Length} characters long; the limit is {DurableOptions.MaxWorkflowIdLength}.", parameter);
        }

        var bad = id.IndexOfAny([.. Enumerable.Range(0, 32).Select(i => (char)i), (char)127]);
        if (bad >= 0)
        {
            throw new ArgumentException(
                $"{char.ToUpperInvariant(what[0])}{what[1..]} '{id.Replace("\n", "\\n", StringComparison.Ordinal)}' contains control character U+{(int)id[bad]:X4} at position {bad}.", parameter);
        }
    }
}
