using Durably.Runtime;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Dashboard;

/// <summary>
/// The actions a run allows, each behind a confirmation that asks for the reason (an expanding form: it works without
/// script), and the one endpoint that takes them: antiforgery checked first, then the action through
/// <see cref="DurableOperator"/>, which records who did it and why.
/// </summary>
internal static class RunActions
{
    /// <param name="request">The page's request.</param>
    /// <param name="run">The run.</param>
    /// <param name="rerunFrom">The operation a rerun starts from unless the operator says otherwise: the one that failed.</param>
    public static Html Render(DashboardRequest request, WorkflowRunInfo run, long rerunFrom = 0)
    {
        if (request.Options.ReadOnly)
        {
            return Html.Empty;
        }

        var forms = new List<Html>();
        if (run.Status == WorkflowStatus.DeadLettered)
        {
            forms.Add(Form(request, run, "retry", "Retry…", "Retry the failed operation", "", "What was fixed?"));
            forms.Add(Form(request, run, "discard", "Discard…", "Discard: compensate and end cancelled", "danger", "Why give up on this run?"));
        }

        if (run.Status is WorkflowStatus.Running or WorkflowStatus.DeadLettered)
        {
            forms.Add(Form(request, run, "signal", "Send a signal…", "Send the signal", "",
                "Why send it?", Html.Trusted("<label>Signal name <input name=\"signal\" required maxlength=\"256\"></label><label>Payload (JSON) <textarea name=\"payload\" rows=\"3\">null</textarea></label>")));
        }

        if (run.Status == WorkflowStatus.Running && run.CancelReason is null)
        {
            forms.Add(Form(request, run, "cancel", "Cancel…", "Cancel the run", "danger", "Why cancel it?"));
        }

        if (run.Status is not (WorkflowStatus.Running or WorkflowStatus.ContinuedAsNew))
        {
            forms.Add(Form(request, run, "rerun", "Rerun from a step…", "Create the rerun", "", "What was fixed?", Html.Of($"""
                <label>From operation # (see the timeline; 0 reruns it all) <input name="from" type="number" min="0" required value="{rerunFrom}"></label>
                <label>New run id (optional) <input name="as" maxlength="256"></label>
                """)));
        }

        return forms.Count == 0 ? Html.Empty : Html.Of($"<div class=\"actions\">{Html.Join(forms)}</div>");
    }

    private static Html Form(DashboardRequest request, WorkflowRunInfo run, string action, string summary, string confirm, string tone, string prompt, Html fields = default)
        => Html.Of($"""
            <details><summary>{summary}</summary>
            <form method="post" action="{request.Href("/actions/" + action)}">
            {request.AntiforgeryField()}
            <input type="hidden" name="id" value="{run.WorkflowId}">
            {fields}
            <label>Reason (recorded with your name) <textarea name="reason" rows="2" required maxlength="{DurableOperator.MaxReasonLength}" placeholder="{prompt}"></textarea></label>
            <button type="submit" class="{tone}" data-action="{action}">{confirm}</button>
            </form></details>
            """);

    /// <summary>Takes action <paramref name="action"/> on the run the form names; back to the run's page when done.</summary>
    public static async Task<IResult> HandleAsync(DashboardRequest request, string action)
    {
        IFormCollection form;
        try
        {
            await request.Http.RequestServices.GetRequiredService<IAntiforgery>().ValidateRequestAsync(request.Http).ConfigureAwait(false);
            form = await request.Http.Request.ReadFormAsync(request.Aborted).ConfigureAwait(false);
        }
        catch (AntiforgeryValidationException ex) when (ex.InnerException is not (InvalidDataException or BadHttpRequestException))
        {
            return request.Page("Refused", "", Html.Trusted(
                "<h1>Refused</h1><div class=\"notice error\">This form was not sent by this dashboard: its antiforgery token is missing or does not match. Reload the run's page and try again.</div>"),
                StatusCodes.Status400BadRequest);
        }
        catch (Exception ex) when (ex is InvalidDataException or BadHttpRequestException or AntiforgeryValidationException)
        {
            // Past the server's form limits (a field over 4 MB by default): nothing was read, nothing done.
            return request.Page("Too large", "", Html.Of($"<h1>Nothing was done</h1><div class=\"notice error\">The form could not be read: {(ex.InnerException ?? ex).Message}</div>"),
                StatusCodes.Status413PayloadTooLarge);
        }

        var id = form["id"].ToString();
        var reason = new OperatorReason(request.OperatorName(), form["reason"].ToString());
        try
        {
            var done = action;
            switch (action)
            {
                case "cancel":
                    await request.Operator.CancelAsync(id, reason, request.Aborted).ConfigureAwait(false);
                    break;
                case "retry":
                    await request.Operator.RetryDeadLetterAsync(id, reason, request.Aborted).ConfigureAwait(false);
                    break;
                case "discard":
                    await request.Operator.DiscardDeadLetterAsync(id, reason, request.Aborted).ConfigureAwait(false);
                    break;
                case "signal":
                    var payload = form["payload"].ToString();
                    var sent = await request.Operator.SignalAsync(id, form["signal"].ToString(), payload.Length == 0 ? "null" : payload, reason, cancellationToken: request.Aborted).ConfigureAwait(false);
                    done = sent ? "signal" : "signal-duplicate";
                    break;
                case "rerun":
                    if (!long.TryParse(form["from"].ToString(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var from))
                    {
                        throw new ArgumentException($"“{form["from"]}” is not an operation number: give the # of a row of the run's timeline (0 or more).");
                    }

                    var newId = form["as"].ToString();
                    var created = await request.Operator.RerunFromAsync(id, from, reason, newId.Length == 0 ? null : newId, request.Aborted).ConfigureAwait(false);
                    return Results.Redirect(request.Href("/run", ("id", created), ("done", "rerun")));
                default:
                    return request.Page("No such action", "", Html.Of($"<h1>No such action</h1><div class=\"notice error\">The dashboard has no action “{action}”; it has cancel, retry, discard, signal and rerun.</div>"), StatusCodes.Status404NotFound);
            }

            return Results.Redirect(request.Href("/run", ("id", id), ("done", done)));
        }
        catch (Exception ex) when (ex is ArgumentException or PayloadException or WorkflowNotFoundException or WorkflowNotDeadLetteredException or WorkflowNotRunningException
            or WorkflowInstanceActiveException or InvalidOperationException)
        {
            var status = ex is ArgumentException or PayloadException ? StatusCodes.Status400BadRequest : ex is WorkflowNotFoundException ? StatusCodes.Status404NotFound : StatusCodes.Status409Conflict;
            var back = id.Length == 0 ? Html.Empty : Html.Of($"<p><a href=\"{request.RunHref(id)}\">Back to the run</a></p>");
            return request.Page("Not done", "", Html.Of($"<h1>Nothing was done</h1><div class=\"notice error\">{ex.Message}</div>{back}"), status);
        }
    }
}
