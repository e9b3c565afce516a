using Durably.Runtime.Journal;
using Microsoft.AspNetCore.Http;

namespace Durably.Dashboard;

/// <summary>
/// The overview: how many runs are in each state, how many finished in the last hour and day and how many of those
/// failed, the dead letters that wait for a person, and the workers — each answered from the store's indexes.
/// </summary>
internal static class OverviewPage
{
    public static async Task<IResult> RenderAsync(DashboardRequest request)
    {
        var letters = await request.Client.ListDeadLettersAsync(new WorkflowRunQuery { PageSize = 5 }, request.Aborted).ConfigureAwait(false);
        if (!request.Operator.HasStatistics)
        {
            return request.Page("Overview", "/", Html.Of($"<h1>Overview</h1><p class=\"sub\">This store does not count runs (IWorkflowStoreStatistics); the lists still work.</p>{DeadLetters(request, letters)}"));
        }

        var all = await request.Operator.CountRunsAsync(null, request.Aborted).ConfigureAwait(false);
        var hour = await request.Operator.CountRunsAsync(request.Now.AddHours(-1), request.Aborted).ConfigureAwait(false);
        var day = await request.Operator.CountRunsAsync(request.Now.AddDays(-1), request.Aborted).ConfigureAwait(false);
        var workers = await request.Operator.ListWorkersAsync(request.Aborted).ConfigureAwait(false);

        long Total(IEnumerable<RunCount> counts, params WorkflowStatus[] statuses) => counts.Where(c => statuses.Length == 0 || statuses.Contains(c.Status)).Sum(c => c.Count);
        var live = workers.Count(w => w.AdvertisedUntil > request.Now);
        var deadLetters = Total(all, WorkflowStatus.DeadLettered);
        var cards = Html.Join(
        [
            Card("Running", Total(all, WorkflowStatus.Running), "", request.Href("/runs", ("status", nameof(WorkflowStatus.Running)))),
            Card("Completed", Total(all, WorkflowStatus.Completed), "ok", request.Href("/runs", ("status", nameof(WorkflowStatus.Completed)))),
            Card("Failed", Total(all, WorkflowStatus.Failed), Total(all, WorkflowStatus.Failed) > 0 ? "bad" : "", request.Href("/runs", ("status", nameof(WorkflowStatus.Failed)))),
            Card("Dead letters", deadLetters, deadLetters > 0 ? "bad" : "", request.Href("/dead-letters")),
            Card("Cancelled", Total(all, WorkflowStatus.Cancelled), "", request.Href("/runs", ("status", nameof(WorkflowStatus.Cancelled)))),
            Card("Live workers", live, live == 0 ? "warn" : "ok", request.Href("/workers")),
        ]);

        var body = Html.Of($"""
            <h1>Overview</h1>
            <p class="sub">{Total(all):N0} runs in the store · as of {request.Now.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC</p>
            <div class="cards">{cards}</div>
            <h2>Throughput and failures</h2>
            <table><tr><th>Window</th><th class="num">Finished</th><th class="num">Per minute</th><th class="num">Completed</th><th class="num">Failed or parked</th><th class="num">Failure rate</th></tr>
            {Window("Last hour", hour, 60)}{Window("Last 24 hours", day, 24 * 60)}</table>
            {DeadLetters(request, letters)}
            <h2>By workflow</h2>
            {ByWorkflow(request, all)}
            <h2>Workers</h2>
            {Workers(request, workers)}
            """);
        return request.Page("Overview", "/", body);
    }

    private static Html Card(string label, long count, string tone, string href)
        => Html.Of($"<a class=\"card {tone}\" href=\"{href}\"><div class=\"n\">{count:N0}</div><div class=\"l\">{label}</div></a>");

    private static Html Window(string label, IReadOnlyList<RunCount> counts, int minutes)
    {
        var finished = counts.Sum(c => c.Count);
        var failed = counts.Where(c => c.Status is WorkflowStatus.Failed or WorkflowStatus.DeadLettered).Sum(c => c.Count);
        var completed = counts.Where(c => c.Status == WorkflowStatus.Completed).Sum(c => c.Count);
        var rate = finished == 0 ? "—" : ((double)failed / finished).ToString("P1", System.Globalization.CultureInfo.InvariantCulture);
        return Html.Of($"<tr><td>{label}</td><td class=\"num\">{finished:N0}</td><td class=\"num\">{(double)finished / minutes:N1}</td><td class=\"num\">{completed:N0}</td><td class=\"num\">{failed:N0}</td><td class=\"num\">{rate}</td></tr>");
    }

    private static Html DeadLetters(DashboardRequest request, DeadLetterPage letters)
    {
        if (letters.DeadLetters.Count == 0)
        {
            return Html.Of($"<h2>Dead letters</h2>{Components.Empty("No dead letters: no run waits for a person.")}");
        }

        var rows = Html.Join(letters.DeadLetters.Select(l => Html.Of(
            $"<tr><td><a href=\"{request.RunHref(l.WorkflowId)}\">{l.WorkflowId}</a></td><td>{l.Run.WorkflowName}</td><td>{l.FailedOperation?.Name}</td><td class=\"mono\">{Components.Line(l.FailedOperation?.Error?.Message ?? l.Run.Error?.Message, 100)}</td><td>{request.Time(l.DeadLetteredAt)}</td></tr>")));
        return Html.Of($"<h2>Dead letters — newest <a href=\"{request.Href("/dead-letters")}\">(all)</a></h2><table><tr><th>Run</th><th>Workflow</th><th>Failed at</th><th>Error</th><th>Parked</th></tr>{rows}</table>");
    }

    private static Html ByWorkflow(DashboardRequest request, IReadOnlyList<RunCount> all)
    {
        if (all.Count == 0)
        {
            return Components.Empty("No runs yet.");
        }

        var statuses = Enum.GetValues<WorkflowStatus>();
        var header = Html.Join(statuses.Select(s => Html.Of($"<th class=\"num\">{Components.Words(s.ToString())}</th>")));
        var rows = Html.Join(all.GroupBy(c => c.WorkflowName).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => Html.Of(
            $"<tr><td><a href=\"{request.Href("/runs", ("workflow", g.Key))}\">{g.Key}</a></td>{Html.Join(statuses.Select(s => Cell(request, g.Key, s, g.Where(c => c.Status == s).Sum(c => c.Count))))}<td class=\"num\">{g.Sum(c => c.Count):N0}</td></tr>")));
        return Html.Of($"<table><tr><th>Workflow</th>{header}<th class=\"num\">Total</th></tr>{rows}</table>");
    }

    private static Html Cell(DashboardRequest request, string workflow, WorkflowStatus status, long count)
        => count == 0 ? Html.Trusted("<td class=\"num muted\">0</td>")
            : Html.Of($"<td class=\"num\"><a href=\"{request.Href("/runs", ("workflow", workflow), ("status", status.ToString()))}\">{count:N0}</a></td>");

    internal static Html Workers(DashboardRequest request, IReadOnlyList<WorkerRecord> workers)
    {
        if (workers.Count == 0)
        {
            return Components.Empty("No worker has advertised what it runs.");
        }

        var rows = Html.Join(workers.Select(w => Html.Of(
            $"<tr><td>{w.Name}</td><td>{(w.AdvertisedUntil > request.Now ? Html.Trusted("<span class=\"badge s-Completed\">live</span>") : Html.Trusted("<span class=\"badge s-Cancelled\">gone</span>"))}</td><td>{string.Join(", ", w.Workflows.Select(v => $"{v.Name} v{v.Version}"))}</td><td class=\"num\">{w.RunsHeld:N0}</td><td>{request.Time(w.HeartbeatAt)}</td><td>{request.Time(w.LeaseExpiresAt)}</td><td>{request.Time(w.AdvertisedUntil)}</td></tr>")));
        return Html.Of($"<table><tr><th>Worker</th><th>State</th><th>Runs</th><th class=\"num\">Runs held</th><th>Last heartbeat</th><th>Lease until</th><th>Advertised until</th></tr>{rows}</table>");
    }
}
