using System.Text.Json;
using System.Text.Json.Nodes;

namespace Durably.Dashboard;

/// <summary>The pieces pages share: status badges, the JSON viewer, pagers, empty states.</summary>
internal static class Components
{
    private static readonly JsonSerializerOptions s_indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Html Status(WorkflowStatus status) => Html.Of($"<span class=\"badge s-{status}\">{Words(status.ToString())}</span>");

    public static Html State(WorkflowOperationState state) => Html.Of($"<span class=\"badge o-{state}\">{Words(state.ToString())}</span>");

    /// <summary>"DeadLettered" → "Dead lettered".</summary>
    public static string Words(string pascal)
    {
        var text = new System.Text.StringBuilder();
        foreach (var c in pascal)
        {
            if (char.IsUpper(c) && text.Length > 0)
            {
                text.Append(' ').Append(char.ToLowerInvariant(c));
            }
            else
            {
                text.Append(c);
            }
        }

        return text.ToString();
    }

    public static Html Copy(string value) => Html.Of($"<button type=\"button\" class=\"copy\" data-copy=\"{value}\">copy</button>");

    public static Html Empty(string message) => Html.Of($"<div class=\"empty\">{message}</div>");

    /// <summary>Shortens <paramref name="text"/> to one line of at most <paramref name="length"/> characters.</summary>
    public static string Line(string? text, int length = 140)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }

        var line = text.ReplaceLineEndings(" ");
        return line.Length <= length ? line : line[..length] + "…";
    }

    /// <summary>
    /// A payload as the operator sees it: property redaction, then the app's hook, then indented, then cut at the cap
    /// with a note of what was left out. Text that is not JSON (an error message) is shown as it is.
    /// </summary>
    public static Html Payload(DashboardRequest request, DashboardPayload payload, bool open = false)
    {
        string? shown;
        try
        {
            shown = request.Options.Redact is { } redact ? redact(payload with { Text = Indent(payload.Text, request.Options.RedactedProperties) }) : Indent(payload.Text, request.Options.RedactedProperties);
        }
        catch (Exception ex)
        {
            return Html.Of($"<p class=\"cut\">Hidden: the app's redaction hook threw {ex.GetType().Name}: {ex.Message}</p>");
        }

        if (shown is null)
        {
            return Html.Trusted("<p class=\"muted\">Hidden by the app's redaction.</p>");
        }

        var cap = request.Options.MaxPayloadCharacters;
        var cut = shown.Length > cap
            ? Html.Of($"<p class=\"cut\">Showing the first {cap:N0} of {shown.Length:N0} characters.</p>")
            : Html.Empty;
        var text = shown.Length > cap ? shown[..cap] + "…" : shown;
        var label = payload.Kind switch
        {
            DashboardPayloadKind.RunInput or DashboardPayloadKind.OperationInput => "Input",
            DashboardPayloadKind.RunOutput or DashboardPayloadKind.OperationOutput => "Output",
            DashboardPayloadKind.RunStatus => "Status",
            _ => "Error",
        };
        return Html.Of($"<details class=\"json\"{(open ? Html.Trusted(" open") : Html.Empty)}><summary>{label} ({shown.Length:N0} characters)</summary>{cut}<pre class=\"json\">{text}</pre></details>");
    }

    /// <summary>The JSON indented, with the values of <paramref name="redacted"/> properties replaced; other text unchanged.</summary>
    public static string Indent(string text, ISet<string> redacted)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException)
        {
            return text;
        }

        if (node is null)
        {
            return "null";
        }

        if (redacted.Count > 0)
        {
            Redact(node, redacted);
        }

        return node.ToJsonString(s_indented);
    }

    private static void Redact(JsonNode node, ISet<string> redacted)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var name in obj.Select(p => p.Key).ToList())
                {
                    if (redacted.Contains(name))
                    {
                        obj[name] = "***";
                    }
                    else if (obj[name] is { } child)
                    {
                        Redact(child, redacted);
                    }
                }

                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    if (item is not null)
                    {
                        Redact(item, redacted);
                    }
                }

                break;
        }
    }

    public static Html Pager(DashboardRequest request, string page, string? nextToken, params (string Name, string? Value)[] query)
    {
        var first = request.Query("page") is null ? Html.Empty : Html.Of($"<a href=\"{request.Href(page, query)}\">« First page</a>");
        var next = nextToken is null ? Html.Empty : Html.Of($"<a href=\"{request.Href(page, [.. query, ("page", nextToken)])}\">Next page »</a>");
        return Html.Of($"<div class=\"pager\">{first}{next}</div>");
    }
}
