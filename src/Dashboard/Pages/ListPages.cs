using Microsoft.AspNetCore.Http;

namespace Durably.Dashboard;

/// <summary>The dead letters that wait for a person: why each was parked, where, after how many attempts.</summary>
internal static class DeadLettersPage
{
    public static async Task<IResult> RenderAsync(DashboardRequest request)
    {
        var workflow = request.Query("workflow");
        var page = await request.Client.ListDeadLettersAsync(
            new WorkflowRunQuery { WorkflowName = workflow, PageSize = request.Options.PageSize, PageToken = request.Query("page") }, request.Aborted).ConfigureAwait(false);
        var rows = Html.Join(page.DeadLetters.Select(l => Html.Of($"""
            <tr><td><a href="{request.RunHref(l.WorkflowId)}">{l.WorkflowId}</a></td><td>{l.Run.WorkflowName} <span class="muted">v{l.Run.Version}</span></td>
            <td>{Components.Words(l.Reason.ToString())}</td><td>{l.FailedOperation?.Name}</td><td class="num">{l.FailedOperation?.Attempts}</td>
            <td class="mono">{Components.Line(l.FailedOperation?.Error?.ToString() ?? l.Run.Error?.ToString(), 120)}</td><td>{request.Time(l.DeadLetteredAt)}</td></tr>
            """)));
        var filter = workflow is null ? Html.Empty : Html.Of($"<p>Workflow {workflow} · <a href=\"{request.Href("/dead-letters")}\">all workflows</a></p>");
        var table = page.DeadLetters.Count == 0
            ? Components.Empty("No dead letters: no run waits for a person.")
            : Html.Of($"<table><tr><th>Run</th><th>Workflow</th><th>Why parked</th><th>Failed at</th><th class=\"num\">Attempts</th><th>Error</th><th>Parked</th></tr>{rows}</table>");
        return request.Page("Dead letters", "/dead-letters", Html.Of($"""
            <h1>Dead letters</h1>
            <p class="sub">Runs parked after a failure they could not get past. Open one to retry it or discard it.</p>
            {filter}{table}
            {Components.Pager(request, "/dead-letters", page.NextPageToken, ("workflow", workflow))}
            """));
    }
}

/// <summary>The workers: what each advertises, whether it is live, its heartbeat and lease, the runs it holds.</summary>
internal static class WorkersPage
{
    public static async Task<IResult> RenderAsync(DashboardRequest request)
    {
        var body = request.Operator.HasStatistics
            ? OverviewPage.Workers(request, await request.Operator.ListWorkersAsync(request.Aborted).ConfigureAwait(false))
            : Components.Empty("This store does not list workers (IWorkflowStoreStatistics).");
        return request.Page("Workers", "/workers", Html.Of($"""
            <h1>Workers</h1>
            <p class="sub">A worker is live while it renews its advertisement; one that stopped is shown until its advertisement lapses and its runs move to others.</p>
            {body}
            """));
    }
}

/// <summary>The drain view: per workflow version and contract, the runs still in flight, so a team knows when old code can go.</summary>
internal static class VersionsPage
{
    public static async Task<IResult> RenderAsync(DashboardRequest request)
    {
        var versions = await request.Client.ListWorkflowVersionsAsync(request.Aborted).ConfigureAwait(false);
        var rows = Html.Join(versions.Select(v => Html.Of($"""
            <tr><td><a href="{request.Href("/runs", ("workflow", v.WorkflowName), ("version", v.Version.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("status", nameof(WorkflowStatus.Running)))}">{v.WorkflowName}</a></td>
            <td class="num">v{v.Version}</td><td class="mono">{v.Fingerprint ?? "—"}</td><td class="num">{v.ActiveRuns:N0}</td><td class="num">{v.WaitingForWorker:N0}</td>
            <td>{request.Time(v.OldestStartedAt)}</td><td>{(v.HasLiveWorker ? Html.Trusted("<span class=\"badge s-Completed\">yes</span>") : Html.Trusted("<span class=\"badge s-Failed\">no worker runs it</span>"))}</td></tr>
            """)));
        var table = versions.Count == 0
            ? Components.Empty("No runs in flight: every version's class can be deleted.")
            : Html.Of($"<table><tr><th>Workflow</th><th class=\"num\">Version</th><th>Contract</th><th class=\"num\">Active runs</th><th class=\"num\">Waiting for a worker</th><th>Oldest started</th><th>Live worker</th></tr>{rows}</table>");
        return request.Page("Versions", "/versions", Html.Of($"""
            <h1>Versions</h1>
            <p class="sub">Runs in flight per workflow version and contract. A version with no active runs can be deleted from the code.</p>
            {table}
            """));
    }
}
