using Durably.Runtime.Journal;
using Microsoft.AspNetCore.Http;

namespace Durably.Dashboard;

/// <summary>
/// One run: why it stopped (first, in red, when it failed or was parked), its facts, the actions it allows, the
/// timeline of its journal — every step, timer, signal wait, compensation and patch with attempts, retry times,
/// deadlines, idempotency keys and errors — its input and output, and what operators did to it.
/// </summary>
internal static class RunPage
{
    private static readonly Dictionary<string, string> s_done = new(StringComparer.Ordinal)
    {
        ["cancel"] = "Cancel requested: the run stops at its next durable operation and compensates what it completed.",
        ["retry"] = "Retried: the failed operation has a fresh attempt budget and the run resumes on a worker.",
        ["discard"] = "Discarded: a worker compensates the completed steps and ends the run cancelled.",
        ["signal"] = "Signal sent: the run takes it at its next wait for that name.",
        ["signal-duplicate"] = "That signal id was sent before; nothing was sent again.",
        ["rerun"] = "Rerun created: this is the new run. Its journal starts with the original's operations before the chosen one; a worker runs the rest.",
    };

    public static async Task<IResult> RenderAsync(DashboardRequest request)
    {
        var id = request.Query("id") ?? throw new ArgumentException("Which run? The run page needs an id: …/run?id=<workflow id>.");
        var details = await request.Client.GetRunDetailsAsync(id, request.Aborted).ConfigureAwait(false);
        if (details is null)
        {
            return request.Page("No such run", "/runs", Html.Of($"<h1>No such run</h1><div class=\"notice error\">No run has the id “{id}”.</div><p><a href=\"{request.Href("/runs")}\">All runs</a></p>"), StatusCodes.Status404NotFound);
        }

        var run = details.Run;
        var letter = run.Status == WorkflowStatus.DeadLettered ? await request.Client.GetDeadLetterAsync(id, request.Aborted).ConfigureAwait(false) : null;
        var trail = await request.Operator.ListActionsAsync(id, request.Aborted).ConfigureAwait(false);
        var notice = request.Query("done") is { } done && s_done.TryGetValue(done, out var message) ? Html.Of($"<div class=\"notice\">{message}</div>") : Html.Empty;

        var body = Html.Of($"""
            <p class="muted"><a href="{request.Href("/runs", ("workflow", run.WorkflowName))}">{run.WorkflowName}</a> › run</p>
            <h1>{run.WorkflowId} {Components.Copy(run.WorkflowId)} {Components.Status(run.Status)}</h1>
            {notice}
            {Why(request, details, letter)}
            {Facts(request, details)}
            {RunActions.Render(request, run, details.Operations.LastOrDefault(o => o.State == WorkflowOperationState.Failed && o.Kind != WorkflowOperationKind.Compensation)?.Sequence ?? 0)}
            {PublishedStatus(request, details)}
            <h2>Timeline <span class="muted">— {details.Summary.Operations} operations, {details.Summary.Attempts} attempts</span></h2>
            {Timeline(request, details)}
            <h2>Input and output</h2>
            {Components.Payload(request, new DashboardPayload(run.WorkflowName, run.WorkflowId, DashboardPayloadKind.RunInput, null, details.InputJson ?? "null"), open: true)}
            {(details.OutputJson is { } output ? Components.Payload(request, new DashboardPayload(run.WorkflowName, run.WorkflowId, DashboardPayloadKind.RunOutput, null, output), open: true) : NoOutput(run))}
            <h2>Operators' actions</h2>
            {Trail(request, trail)}
            """);
        return request.Page(run.WorkflowId, "/runs", body);
    }

    private static Html Why(DashboardRequest request, WorkflowRunDetails details, DeadLetter? letter)
    {
        var run = details.Run;
        if (run.Status is not (WorkflowStatus.Failed or WorkflowStatus.DeadLettered) && run.CancelReason is null)
        {
            return Html.Empty;
        }

        if (run.Status == WorkflowStatus.Cancelled || (run.Status == WorkflowStatus.Running && run.CancelReason is not null))
        {
            return Html.Of($"<div class=\"notice\">{(run.Status == WorkflowStatus.Running ? "Cancel requested" : "Cancelled")}: {run.CancelReason}</div>");
        }

        var failed = letter?.FailedOperation ?? details.Operations.Where(o => o.State == WorkflowOperationState.Failed).MaxBy(o => o.CompletedAt);
        var what = letter is null
            ? "The run failed"
            : letter.Reason switch
            {
                DeadLetterReason.StepFailed => "Parked: a step ran out of attempts",
                DeadLetterReason.CompensationFailed => "Parked: a compensation ran out of attempts",
                DeadLetterReason.NonDeterminism => "Parked: the code no longer matches the journal (non-determinism)",
                DeadLetterReason.UnreadablePayload => "Parked: a payload could not be read",
                DeadLetterReason.UnreadableJournalRow => "Parked: a journal row could not be read",
                _ => "Parked: the run method failed",
            };
        var where = failed is null ? Html.Empty
            : Html.Of($"<p>At <b>{failed.Name}</b> ({Components.Words(failed.Kind.ToString()).ToLowerInvariant()} #{failed.Sequence}) after {failed.Attempts} attempt{(failed.Attempts == 1 ? "" : "s")}, {request.Time(failed.CompletedAt ?? run.UpdatedAt)}.</p>");
        var error = failed?.Error ?? run.Error;
        var compensations = details.Operations.Count(o => o.Kind == WorkflowOperationKind.Compensation && o.State == WorkflowOperationState.Completed);
        var rolledBack = compensations == 0 ? Html.Empty
            : Html.Of($"<p>Rolled back: {compensations} compensation{(compensations == 1 ? "" : "s")} undid the completed steps (see the timeline).</p>");
        var next = letter is null ? rolledBack
            : Html.Trusted("<p class=\"muted\">Fix the cause, then retry (the failed operation runs again with the same idempotency key) or discard (completed steps are compensated).</p>");
        return Html.Of($"""
            <div class="why">
            <h2>{what}</h2>
            {where}
            <div class="err">{error?.Type}: {Components.Line(error?.Message, request.Options.MaxPayloadCharacters)}</div>
            {next}
            </div>
            """);
    }

    private static Html NoOutput(WorkflowRunInfo run) => run.Status switch
    {
        WorkflowStatus.Running => Html.Trusted("<p class=\"muted\">No output yet: the run is still going.</p>"),
        WorkflowStatus.DeadLettered => Html.Trusted("<p class=\"muted\">No output: the run is parked as a dead letter.</p>"),
        WorkflowStatus.ContinuedAsNew => Html.Trusted("<p class=\"muted\">No output: the run continued as a new run (see “Continued as”).</p>"),
        _ => Html.Of($"<p class=\"muted\">No output: the run ended {Components.Words(run.Status.ToString()).ToLowerInvariant()}.</p>"),
    };

    private static Html Facts(DashboardRequest request, WorkflowRunDetails details)
    {
        var run = details.Run;
        (string Label, Html Value)[] facts =
        [
            ("Workflow", Html.Of($"{run.WorkflowName} v{run.Version}")),
            ("Contract fingerprint", Html.Of($"<span class=\"mono\">{run.Fingerprint ?? "—"}</span>")),
            ("Instance key", Html.Of($"{run.InstanceKey ?? "—"}")),
            ("Started", request.Time(run.CreatedAt)),
            ("Last change", request.Time(run.UpdatedAt)),
            ("Worker", Html.Of($"{details.Worker ?? (details.IsUnloaded ? "none — unloaded until woken" : "none")}")),
            ("Wakes", request.Time(details.WakeAt)),
            ("Continued as", run.ContinuedAs is { } next ? Html.Of($"<a href=\"{request.RunHref(next)}\">{next}</a>") : Html.Trusted("—")),
            ("Parent run", details.ParentWorkflowId is { } parent ? Html.Of($"<a href=\"{request.RunHref(parent)}\">{parent}</a>") : Html.Trusted("—")),
            ("Child runs", details.ChildWorkflowIds.Count == 0 ? Html.Trusted("—")
                : Html.Join(details.ChildWorkflowIds.Take(20).Select(c => Html.Of($"<a href=\"{request.RunHref(c)}\">{c}</a> "))
                    .Append(details.ChildWorkflowIds.Count > 20 ? Html.Of($"and {details.ChildWorkflowIds.Count - 20} more") : Html.Empty))),
        ];
        return Html.Of($"<div class=\"facts\">{Html.Join(facts.Select(f => Html.Of($"<div><span>{f.Label}</span><b>{f.Value}</b></div>")))}</div>");
    }

    /// <summary>What the run says it is doing (<c>Workflow.SetStatus</c>), redacted like any payload; nothing when it published nothing.</summary>
    private static Html PublishedStatus(DashboardRequest request, WorkflowRunDetails details)
        => details.StatusJson is { } status
            ? Html.Of($"""
                <h2>Status <span class="muted">— published {request.Time(details.StatusUpdatedAt)}</span></h2>
                {Components.Payload(request, new DashboardPayload(details.Run.WorkflowName, details.Run.WorkflowId, DashboardPayloadKind.RunStatus, null, status), open: true)}
                """)
            : Html.Empty;

    /// <summary>A step's reported progress: a bar, the percentage, its message and when it was written.</summary>
    private static Html Progress(DashboardRequest request, StepProgress? progress)
        => progress is { } p
            ? Html.Of($"""<div class="meta progress"><progress max="1" value="{p.Fraction.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture)}"></progress> {(p.Fraction * 100).ToString("0.#", System.Globalization.CultureInfo.InvariantCulture)} %{(p.Message is { Length: > 0 } m ? Html.Of($" · {m}") : Html.Empty)} · reported {request.Time(p.ReportedAt)}</div>""")
            : Html.Empty;

    private static Html Timeline(DashboardRequest request, WorkflowRunDetails details)
    {
        if (details.Operations.Count == 0)
        {
            return Components.Empty("Nothing journaled yet: the run has not started on a worker.");
        }

        var run = details.Run;
        // In the order things happened: a compensation (negative sequence) ran after the failure it undoes.
        return Html.Of($"<ol class=\"timeline\">{Html.Join(details.Operations.OrderBy(o => o.StartedAt).ThenBy(o => o.Sequence).Select(o => Operation(request, run, o)))}</ol>");
    }

    private static Html Operation(DashboardRequest request, WorkflowRunInfo run, WorkflowOperationInfo o)
    {
        var took = o.CompletedAt is { } end ? $" · took {Duration(end - o.StartedAt)}" : "";
        var attempts = o.Attempts > 1 ? $" · {o.Attempts} attempts" : o.Attempts == 1 ? " · 1 attempt" : "";
        var retry = o.RetryAt is { } at ? Html.Of($" · next attempt {request.Time(at)}") : Html.Empty;
        var due = o.DueAt is { } dueAt ? Html.Of($" · {(o.Kind == WorkflowOperationKind.Timer ? "due" : "deadline")} {request.Time(dueAt)}") : Html.Empty;
        var key = o.IdempotencyKey is { } k && o.Kind is WorkflowOperationKind.Step or WorkflowOperationKind.Compensation
            ? Html.Of($"<div class=\"meta\">idempotency key <span class=\"mono\">{k}</span>{Components.Copy(k)}</div>")
            : Html.Empty;
        var error = o.Error is { } e ? Html.Of($"<div class=\"err\">{e.Type}: {Components.Line(e.Message, request.Options.MaxPayloadCharacters)}</div>") : Html.Empty;
        var input = o.InputJson is { } i && o.Kind != WorkflowOperationKind.Patch
            ? Components.Payload(request, new DashboardPayload(run.WorkflowName, run.WorkflowId, DashboardPayloadKind.OperationInput, o.Name, i))
            : Html.Empty;
        var output = o.OutputJson is { } j ? Components.Payload(request, new DashboardPayload(run.WorkflowName, run.WorkflowId, DashboardPayloadKind.OperationOutput, o.Name, j)) : Html.Empty;
        return Html.Of($"""
            <li class="{o.State}"><div class="head"><span class="muted">#{o.Sequence}</span><span class="kind">{Components.Words(o.Kind.ToString())}</span><span class="name">{o.Name}</span>{Components.State(o.State)}</div>
            <div class="meta">started {request.Time(o.StartedAt)}{took}{attempts}{retry}{due}</div>{Progress(request, o.Progress)}{key}{error}{input}{output}</li>
            """);
    }

    private static string Duration(TimeSpan span)
        => span.TotalSeconds < 1 ? $"{span.TotalMilliseconds:0} ms"
            : span.TotalMinutes < 1 ? $"{span.TotalSeconds:0.0} s"
            : span.TotalHours < 1 ? $"{span.TotalMinutes:0.0} min"
            : span.TotalDays < 2 ? $"{span.TotalHours:0.0} h"
            : $"{span.TotalDays:0.0} d";

    private static Html Trail(DashboardRequest request, IReadOnlyList<OperatorActionRecord> trail)
        => trail.Count == 0
            ? Html.Trusted("<p class=\"muted\">None.</p>")
            : Html.Of($"<table><tr><th>When</th><th>Action</th><th>By</th><th>Reason</th></tr>{Html.Join(trail.Select(a => Html.Of($"<tr><td>{request.Time(a.At)}</td><td>{a.Action}</td><td>{a.Actor}</td><td>{a.Reason}</td></tr>")))}</table>");
}
