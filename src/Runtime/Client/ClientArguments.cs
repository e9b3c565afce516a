using Durably.Runtime.Journal;

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

        if (StorableText.FindUnstorable(reason) is var bad and >= 0)
        {
            // PostgreSQL text cannot hold U+0000 or a lone surrogate, and SQLite cuts a string at U+0000: refuse it rather than lose the rest.
            throw new ArgumentException($"The {what} reason for run '{workflowId}' contains {StorableText.Describe(reason[bad])} at position {bad}, which no store can keep.", nameof(reason));
        }
    }

    /// <summary>Throws, naming the id, unless it is 1 to 256 characters with no control characters.</summary>
    public static void ValidateId(string id, string what, string parameter)
    {
        ArgumentNullException.ThrowIfNull(id, parameter);
        if (id.Length == 0 || string.IsNullOrWhiteSpace(id))
        {
            throw new ArgumentException($"The {what} must not be empty or blank.", parameter);
        }

        if (id.Length > DurableOptions.MaxWorkflowIdLength)
        {
            throw new ArgumentException(
                $"{char.ToUpperInvariant(what[0])}{what[1..]} '{id[..32]}…' is {id.Length} characters long; the limit is {DurableOptions.MaxWorkflowIdLength}.", parameter);
        }

        var bad = id.IndexOfAny(s_controlCharacters);
        if (bad >= 0)
        {
            throw new ArgumentException(
                $"{char.ToUpperInvariant(what[0])}{what[1..]} '{Printable(id)}' contains control character U+{(int)id[bad]:X4} at position {bad}; ids are kept as text by every store, so control characters are refused.", parameter);
        }

        // A lone UTF-16 surrogate has no UTF-8 form: PostgreSQL refuses it, SQLite would store a replacement character.
        if (StorableText.FindUnstorable(id) is var lone and >= 0)
        {
            throw new ArgumentException(
                $"{char.ToUpperInvariant(what[0])}{what[1..]} '{Printable(id)}' contains {StorableText.Describe(id[lone])} at position {lone}, which is not text any store can keep.", parameter);
        }
    }

    /// <summary>
    /// Throws unless a workflow id chosen at start stays clear of the ids continue-as-new gives its runs:
    /// <c>order-7</c> continues as <c>order-7~1</c>, <c>order-7~2</c>, …, so an id ending in <c>~</c> and digits is reserved.
    /// </summary>
    public static void RefuseContinuationSuffix(string workflowId)
    {
        var tilde = workflowId.LastIndexOf('~');
        if (tilde > 0 && tilde < workflowId.Length - 1 && workflowId.AsSpan(tilde + 1).IndexOfAnyExceptInRange('0', '9') < 0)
        {
            throw new ArgumentException(
                $"Workflow id '{workflowId}' ends in '~{workflowId[(tilde + 1)..]}', which is reserved: a run that continues as new takes its id with '~' and its "
                + $"generation (run '{workflowId[..tilde]}' continues as '{workflowId}'). Choose an id that does not end in '~' and digits.", nameof(workflowId));
        }
    }

    private static readonly char[] s_controlCharacters = [.. Enumerable.Range(0, 32).Select(i => (char)i), (char)127];

    private static string Printable(string id)
    {
        var shown = id.Length > 64 ? id[..64] + "…" : id;
        return string.Concat(shown.Select(c => c < 32 || c == 127 || char.IsSurrogate(c) ? $"\\u{(int)c:X4}" : c.ToString()));
    }
}
