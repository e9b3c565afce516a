using System.Buffers.Text;
using Durably.Runtime.Journal;

namespace Durably.Runtime.Client;

/// <summary>
/// The keyset position of a page of runs, as the opaque <see cref="WorkflowRunQuery.PageToken"/> callers pass back: a
/// version, the last run's start time (ticks) and its id, base64url-encoded. Anything else is refused, naming it.
/// </summary>
internal static class PageToken
{
    /// <summary>The longest token accepted.</summary>
    public const int MaxLength = 2048;

    /// <summary>The position after <paramref name="last"/>: its start time (ticks) and id, base64url-encoded.</summary>
    public static string Encode(RunRecord last)
        => Base64Url.EncodeToString(System.Text.Encoding.UTF8.GetBytes(
            $"1:{last.CreatedAt.UtcTicks.ToString(System.Globalization.CultureInfo.InvariantCulture)}:{last.WorkflowId}"));

    /// <summary>The position a token names; null for the first page.</summary>
    /// <exception cref="ArgumentException">The token is not one <see cref="Encode"/> made.</exception>
    public static (DateTimeOffset CreatedAt, string WorkflowId)? Decode(string? token)
    {
        if (token is null)
        {
            return null;
        }

        var shown = token.Length > 40 ? token[..40] + "…" : token;
        var invalid = new ArgumentException(
            $"WorkflowRunQuery.PageToken '{shown}' ({token.Length} characters) is not a token ListRunsAsync returned; pass a WorkflowRunPage.NextPageToken, or null for the first page.",
            "query");
        if (token.Length is 0 or > MaxLength)
        {
            throw invalid;
        }

        string text;
        try
        {
            text = new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Base64Url.DecodeFromChars(token));
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException)
        {
            throw invalid;
        }

        var parts = text.Split(':', 3);
        if (parts is not ["1", var ticksText, var workflowId]
            || !long.TryParse(ticksText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ticks)
            || ticks > DateTimeOffset.MaxValue.UtcTicks
            || workflowId.Length is 0 or > DurableOptions.MaxWorkflowIdLength)
        {
            throw invalid;
        }

        return (new DateTimeOffset(ticks, TimeSpan.Zero), workflowId);
    }
}
