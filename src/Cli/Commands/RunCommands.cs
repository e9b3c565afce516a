using System.CommandLine;
using System.Globalization;

namespace Durably.Cli;

/// <summary><c>runs list</c>, <c>runs show</c> and <c>dead-letters list</c>: reading runs.</summary>
internal static class RunCommands
{
    private static readonly Option<string?> s_workflow = new("--workflow") { Description = "Only runs of this workflow." };
    private static readonly Option<WorkflowStatus?> s_status = new("--status") { Description = "Only runs with this status: Running, Completed, Failed, DeadLettered, ContinuedAsNew, Cancelled." };
    private static readonly Option<DateTimeOffset?> s_from = new("--from") { Description = "Only runs started at or after this time (ISO 8601; UTC unless an offset is given)." };
    private static readonly Option<DateTimeOffset?> s_to = new("--to") { Description = "Only runs started before this time." };
    private static readonly Option<string?> s_key = new("--key") { Description = "Only runs started with this instance key." };
    private static readonly Option<int?> s_version = new("--workflow-version") { Description = "Only runs of this version of the workflow (with --workflow)." };
    private static readonly Option<int> s_limit = new("--limit") { Description = "How many runs to print (1 to 1000).", DefaultValueFactory = _ => 50 };
    private static readonly Option<string?> s_page = new("--page") { Description = "Go on from where a previous list stopped: the token it printed." };
    private static readonly Argument<string> s_id = new("id") { Description = "The run's workflow id." };

    public static Command Runs() => new Command("runs", "List runs and show one.").With(
        new Command("list", "List runs, newest first, with filters.").With(s_workflow, s_status, s_from, s_to, s_key, s_version, s_limit, s_page).OnStore(ListAsync),
        new Command("show", "Show a run: why it stopped, its timeline, input and output, and what operators did.").With(s_id).OnStore(ShowAsync));

    public static Command DeadLetters(params Command[] actions) => new Command("dead-letters", "List dead letters; retry or discard one.").With(
        [new Command("list", "List dead-lettered runs, newest first.").With(s_workflow, s_limit, s_page).OnStore(ListDeadLettersAsync), .. actions]);

    private static async Task<int> ListAsync(ParseResult parse, OpenStore store, CancellationToken cancellationToken)
    {
        var page = await store.Client.ListRunsAsync(new WorkflowRunQuery
        {
            WorkflowName = parse.GetValue(s_workflow),
            Status = parse.GetValue(s_status),
            CreatedFrom = parse.GetValue(s_from),
            CreatedBefore = parse.GetValue(s_to),
            InstanceKey = parse.GetValue(s_key),
            Version = parse.GetValue(s_version),
            PageSize = parse.GetValue(s_limit),
            PageToken = parse.GetValue(s_page),
        }, cancellationToken).ConfigureAwait(false);
        return PrintPage(parse, page, page.Runs.Count, page.NextPageToken, () => Output.Table(
            ["ID", "WORKFLOW", "STATUS", "KEY", "STARTED (UTC)", "UPDATED (UTC)", "ERROR OR REASON"],
            page.Runs.Select(r => (IReadOnlyList<string?>)[r.WorkflowId, $"{r.WorkflowName} v{r.Version}", r.Status.ToString(), r.InstanceKey, Output.Time(r.CreatedAt), Output.Time(r.UpdatedAt), r.Error?.Message ?? r.CancelReason])));
    }

    private static async Task<int> ListDeadLettersAsync(ParseResult parse, OpenStore store, CancellationToken cancellationToken)
    {
        var page = await store.Client.ListDeadLettersAsync(new WorkflowRunQuery
        {
            WorkflowName = parse.GetValue(s_workflow),
            PageSize = parse.GetValue(s_limit),
            PageToken = parse.GetValue(s_page),
        }, cancellationToken).ConfigureAwait(false);
        return PrintPage(parse, page, page.DeadLetters.Count, page.NextPageToken, () => Output.Table(
            ["ID", "WORKFLOW", "WHY", "FAILED AT", "ATTEMPTS", "PARKED (UTC)", "ERROR"],
            page.DeadLetters.Select(l => (IReadOnlyList<string?>)[l.WorkflowId, $"{l.Run.WorkflowName} v{l.Run.Version}", l.Reason.ToString(), l.FailedOperation?.Name,
                l.FailedOperation?.Attempts.ToString(CultureInfo.InvariantCulture), Output.Time(l.DeadLetteredAt), (l.FailedOperation?.Error ?? l.Run.Error)?.ToString()])));
    }

    /// <summary>A page as JSON, or as a table followed (on standard error) by how to see the next page.</summary>
    private static int PrintPage(ParseResult parse, object page, int shown, string? next, Action table)
    {
        if (parse.GetValue(CliOptions.Json))
        {
            Output.Json(page);
            return ExitCodes.Ok;
        }

        table();
        More(shown, next);
        return ExitCodes.Ok;
    }

    private static async Task<int> ShowAsync(ParseResult parse, OpenStore store, CancellationToken cancellationToken)
    {
        var id = parse.GetValue(s_id)!;
        var details = await store.Client.GetRunDetailsAsync(id, cancellationToken).ConfigureAwait(false)
            ?? throw new WorkflowNotFoundException($"No run has the id '{id}'.");
        var letter = details.Run.Status == WorkflowStatus.DeadLettered ? await store.Client.GetDeadLetterAsync(id, cancellationToken).ConfigureAwait(false) : null;
        var actions = await store.Operator.ListActionsAsync(id, cancellationToken).ConfigureAwait(false);
        if (parse.GetValue(CliOptions.Json))
        {
            Output.Json(new { details.Run, details.InputJson, details.OutputJson, details.Worker, details.IsUnloaded, details.WakeAt, details.ParentWorkflowId, details.ChildWorkflowIds, details.StatusJson, details.StatusUpdatedAt, details.Summary, details.Operations, DeadLetter = letter, OperatorActions = actions });
            return ExitCodes.Ok;
        }

        var run = details.Run;
        Output.Facts(new (string, string?)[]
        {
            ("Run", run.WorkflowId), ("Workflow", $"{run.WorkflowName} v{run.Version}"), ("Status", run.Status.ToString()),
            ("Fingerprint", run.Fingerprint), ("Instance key", run.InstanceKey), ("Started", Output.Time(run.CreatedAt) + " UTC"),
            ("Last change", Output.Time(run.UpdatedAt) + " UTC"), ("Worker", details.Worker ?? (details.IsUnloaded ? "none (unloaded)" : "none")),
            ("Wakes", details.WakeAt is { } wake ? Output.Time(wake) + " UTC" : null), ("Continued as", run.ContinuedAs), ("Cancel reason", run.CancelReason),
            ("Parent run", details.ParentWorkflowId), ("Child runs", details.ChildWorkflowIds.Count == 0 ? null : $"{details.ChildWorkflowIds.Count}: {string.Join(", ", details.ChildWorkflowIds.Take(10))}{(details.ChildWorkflowIds.Count > 10 ? ", …" : "")}"),
            ("Published status", details.StatusJson is { } status ? $"{Output.Clean(status.Length > 200 ? status[..200] + "…" : status)} (at {Output.Time(details.StatusUpdatedAt)} UTC)" : null),
        }.Where(f => !string.IsNullOrEmpty(f.Item2)));
        if (letter is not null || run.Status == WorkflowStatus.Failed)
        {
            var failed = letter?.FailedOperation ?? details.Operations.LastOrDefault(o => o.State == WorkflowOperationState.Failed);
            Console.Out.WriteLine();
            Console.Out.WriteLine(letter is null ? "Why it failed:" : $"Why it is parked: {letter.Reason}");
            Console.Out.WriteLine(Output.Clean($"  at {failed?.Name ?? "the run method"}{(failed is null ? "" : $" (#{failed.Sequence}, {failed.Attempts} attempt{(failed.Attempts == 1 ? "" : "s")})")}: {failed?.Error ?? run.Error}"));
        }

        Console.Out.WriteLine();
        Console.Out.WriteLine($"Timeline ({details.Summary.Operations} operations, {details.Summary.Attempts} attempts), in the order they started:");
        Output.Table(["#", "KIND", "NAME", "STATE", "ATTEMPTS", "STARTED (UTC)", "RETRY/DUE (UTC)", "PROGRESS", "IDEMPOTENCY KEY", "ERROR"],
            details.Operations.OrderBy(o => o.StartedAt).ThenBy(o => o.Sequence).Select(o => (IReadOnlyList<string?>)[o.Sequence.ToString(CultureInfo.InvariantCulture), o.Kind.ToString(), o.Name, o.State.ToString(),
                o.Attempts.ToString(CultureInfo.InvariantCulture), Output.Time(o.StartedAt), Output.Time(o.RetryAt ?? o.DueAt), Progress(o.Progress), o.IdempotencyKey, o.Error?.ToString()]));
        Console.Out.WriteLine();
        Console.Out.WriteLine("Input:");
        Console.Out.WriteLine(Output.Payload(details.InputJson, 4096));
        if (details.OutputJson is not null)
        {
            Console.Out.WriteLine("Output:");
            Console.Out.WriteLine(Output.Payload(details.OutputJson, 4096));
        }

        if (actions.Count > 0)
        {
            Console.Out.WriteLine();
            Console.Out.WriteLine("Operators' actions:");
            Output.Table(["WHEN (UTC)", "ACTION", "BY", "REASON"], actions.Select(a => (IReadOnlyList<string?>)[Output.Time(a.At), a.Action, a.Actor, a.Reason]), width: 80);
        }

        return ExitCodes.Ok;
    }

    /// <summary>A step's reported progress: "42 % row 420 of 1000".</summary>
    private static string? Progress(StepProgress? progress)
        => progress is { } p ? $"{(p.Fraction * 100).ToString("0.#", CultureInfo.InvariantCulture)} %{(p.Message is { Length: > 0 } m ? " " + m : "")}" : null;

    /// <summary>Says how to see the next page, on standard error so the table stays clean for a pipe.</summary>
    private static void More(int shown, string? next)
    {
        Console.Error.WriteLine(next is null ? $"{shown} shown; no more." : $"{shown} shown; more with --page {next}");
    }
}
