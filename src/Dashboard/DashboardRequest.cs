using System.Globalization;
using System.Text;
using Durably.Runtime;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Dashboard;

/// <summary>One request to the dashboard: what a page needs to read, link and render forms.</summary>
internal sealed class DashboardRequest(HttpContext http, DurablyDashboardOptions options, string root)
{
    public HttpContext Http { get; } = http;

    public DurablyDashboardOptions Options { get; } = options;

    public DurableOperator Operator { get; } = http.RequestServices.GetRequiredService<DurableOperator>();

    public IDurableClient Client => Operator.Client;

    public DateTimeOffset Now { get; } = (http.RequestServices.GetService<TimeProvider>() ?? TimeProvider.System).GetUtcNow();

    public CancellationToken Aborted => Http.RequestAborted;

    /// <summary>The dashboard's own address (path base and prefix), without a trailing slash.</summary>
    public string Root { get; } = root;

    /// <summary>A whole page in the dashboard's frame.</summary>
    public IResult Page(string title, string section, Html body, int statusCode = StatusCodes.Status200OK)
        => Results.Content(Layout.Page(this, title, section, body), "text/html; charset=utf-8", System.Text.Encoding.UTF8, statusCode);

    /// <summary>A query-string value, or null when absent or blank.</summary>
    public string? Query(string name) => Http.Request.Query[name].ToString() is { Length: > 0 } value && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;

    /// <summary>A link to a dashboard page with the given query values (null values left out), escaped for a URL.</summary>
    public string Href(string page, params (string Name, string? Value)[] query)
    {
        var link = new StringBuilder(Root).Append(page);
        var separator = '?';
        foreach (var (name, value) in query)
        {
            if (value is not null)
            {
                link.Append(separator).Append(Uri.EscapeDataString(name)).Append('=').Append(Uri.EscapeDataString(value));
                separator = '&';
            }
        }

        return link.Length == 0 ? "/" : link.ToString();
    }

    /// <summary>A link to the detail page of run <paramref name="workflowId"/>.</summary>
    public string RunHref(string workflowId) => Href("/run", ("id", workflowId));

    /// <summary>The hidden antiforgery field every action form carries.</summary>
    public Html AntiforgeryField()
    {
        var tokens = Http.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(Http);
        return Html.Of($"<input type=\"hidden\" name=\"{tokens.FormFieldName}\" value=\"{tokens.RequestToken}\">");
    }

    /// <summary>Who an action is recorded as.</summary>
    public string OperatorName()
    {
        var name = Options.Operator is { } custom ? custom(Http) : Http.User.Identity?.Name;
        return string.IsNullOrWhiteSpace(name) ? "anonymous" : name;
    }

    /// <summary>A time as the dashboard shows it: UTC, to the second, with how long ago it was.</summary>
    public Html Time(DateTimeOffset? time)
        => time is not { } t ? Html.Trusted("<span class=\"muted\">—</span>")
            : Html.Of($"<time datetime=\"{t.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)}\" title=\"{t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture)} UTC\">{Ago(t)}</time>");

    /// <summary>"3 min ago", "in 2 h", "just now".</summary>
    public string Ago(DateTimeOffset time)
    {
        var span = Now - time;
        var future = span < TimeSpan.Zero;
        var length = future ? -span : span;
        var text = length.TotalSeconds < 5 ? "just now"
            : length.TotalMinutes < 1 ? $"{(int)length.TotalSeconds} s"
            : length.TotalHours < 1 ? $"{(int)length.TotalMinutes} min"
            : length.TotalDays < 2 ? $"{(int)length.TotalHours} h"
            : $"{(int)length.TotalDays} d";
        return text == "just now" ? text : future ? $"in {text}" : $"{text} ago";
    }
}
