using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Durably.Dashboard;

/// <summary>
/// The runs, newest first, filtered by workflow, status, start time, instance key and version, one keyset page at a
/// time; a search by id goes straight to the run.
/// </summary>
internal static class RunsPage
{
    public static async Task<IResult> RenderAsync(DashboardRequest request)
    {
        var notice = Html.Empty;
        if (request.Query("id") is { } id)
        {
            if (await request.Client.GetRunAsync(id, request.Aborted).ConfigureAwait(false) is not null)
            {
                return Results.Redirect(request.RunHref(id));
            }

            notice = Html.Of($"<div class=\"notice error\">No run has the id “{id}”.</div>");
        }

        var query = ReadQuery(request) with { PageSize = request.Options.PageSize, PageToken = request.Query("page") };
        var page = await request.Client.ListRunsAsync(query, request.Aborted).ConfigureAwait(false);
        var workflows = request.Operator.HasStatistics
            ? (await request.Operator.CountRunsAsync(null, request.Aborted).ConfigureAwait(false)).Select(c => c.WorkflowName).Distinct().Order(StringComparer.Ordinal).ToList()
            : [];

        var rows = Html.Join(page.Runs.Select(r => Html.Of(
            $"<tr><td><a href=\"{request.RunHref(r.WorkflowId)}\">{r.WorkflowId}</a>{(r.ParentWorkflowId is { } parent ? Html.Of($"<div class=\"muted\">child of <a href=\"{request.RunHref(parent)}\">{parent}</a></div>") : Html.Empty)}</td><td>{r.WorkflowName} <span class=\"muted\">v{r.Version}</span></td><td>{Components.Status(r.Status)}</td><td>{r.InstanceKey}</td><td>{request.Time(r.CreatedAt)}</td><td>{request.Time(r.UpdatedAt)}</td><td class=\"mono\">{Components.Line(r.Error?.Message ?? r.CancelReason, 90)}</td></tr>")));
        var table = page.Runs.Count == 0
            ? Components.Empty("No run matches these filters.")
            : Html.Of($"<table><tr><th>Run</th><th>Workflow</th><th>Status</th><th>Instance key</th><th>Started</th><th>Updated</th><th>Error or reason</th></tr>{rows}</table>");
        var body = Html.Of($"""
            <h1>Runs</h1>
            <p class="sub">Newest first · {request.Options.PageSize} a page</p>
            {notice}
            {Filters(request, workflows)}
            {table}
            {Components.Pager(request, "/runs", page.NextPageToken, FilterValues(request))}
            """);
        return request.Page("Runs", "/runs", body);
    }

    /// <summary>The filters in the query string as a query; a value that does not parse is refused, naming it.</summary>
    internal static WorkflowRunQuery ReadQuery(DashboardRequest request)
    {
        WorkflowStatus? status = null;
        if (request.Query("status") is { } text)
        {
            status = Enum.TryParse<WorkflowStatus>(text, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) && !int.TryParse(text, out _)
                ? parsed
                : throw new ArgumentException($"The status “{Components.Line(text, 64)}” is not one of {string.Join(", ", Enum.GetNames<WorkflowStatus>())}.");
        }

        int? version = null;
        if (request.Query("version") is { } versionText)
        {
            version = int.TryParse(versionText, NumberStyles.None, CultureInfo.InvariantCulture, out var v)
                ? v
                : throw new ArgumentException($"The version “{Components.Line(versionText, 64)}” is not a whole number.");
        }

        return new WorkflowRunQuery
        {
            WorkflowName = request.Query("workflow"),
            Status = status,
            Version = version,
            InstanceKey = request.Query("key"),
            CreatedFrom = Time(request, "from"),
            CreatedBefore = Time(request, "to"),
        };
    }

    private static DateTimeOffset? Time(DashboardRequest request, string name)
        => request.Query(name) is not { } text ? null
            : DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
                ? time
                : throw new ArgumentException($"The time “{Components.Line(text, 64)}” ({name}) is not a date and time such as 2026-11-30T14:00 (UTC).");

    private static (string, string?)[] FilterValues(DashboardRequest request)
        => [.. new[] { "workflow", "status", "from", "to", "key", "version" }.Select(n => (n, request.Query(n)))];

    private static Html Filters(DashboardRequest request, IReadOnlyList<string> workflows)
    {
        var chosen = request.Query("workflow");
        var workflowField = workflows.Count == 0
            ? Html.Of($"<input name=\"workflow\" value=\"{chosen}\" placeholder=\"any\">")
            : Html.Of($"<select name=\"workflow\"><option value=\"\">any</option>{Html.Join(workflows.Select(w => Option(w, w, chosen)))}</select>");
        var statusField = Html.Of($"<select name=\"status\"><option value=\"\">any</option>{Html.Join(Enum.GetNames<WorkflowStatus>().Select(s => Option(s, Components.Words(s), request.Query("status"))))}</select>");
        return Html.Of($"""
            <form class="filters" method="get" action="{request.Href("/runs")}">
            <label>Workflow {workflowField}</label>
            <label>Status {statusField}</label>
            <label>Version <input name="version" value="{request.Query("version")}" size="4" inputmode="numeric"></label>
            <label>Instance key <input name="key" value="{request.Query("key")}"></label>
            <label>Started from (UTC) <input type="datetime-local" name="from" value="{request.Query("from")}"></label>
            <label>Started before (UTC) <input type="datetime-local" name="to" value="{request.Query("to")}"></label>
            <button type="submit">Filter</button>
            <a href="{request.Href("/runs")}">Clear</a>
            <label>Go to run id <input name="id" placeholder="workflow id"></label>
            </form>
            """);
    }

    private static Html Option(string value, string label, string? chosen)
        => string.Equals(value, chosen, StringComparison.OrdinalIgnoreCase)
            ? Html.Of($"<option value=\"{value}\" selected>{label}</option>")
            : Html.Of($"<option value=\"{value}\">{label}</option>");
}
