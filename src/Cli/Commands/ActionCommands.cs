using System.CommandLine;
using Durably.Runtime;

namespace Durably.Cli;

/// <summary><c>cancel</c>, <c>dead-letters retry|discard</c> and <c>signal</c>: actions, each recorded with who and why.</summary>
internal static class ActionCommands
{
    private static readonly Argument<string> s_id = new("id") { Description = "The run's workflow id." };

    public static Command Cancel()
    {
        var reason = CliCommand.Reason("cancel it; kept on the run");
        return new Command("cancel", "Cancel a run: it stops at its next durable operation and compensates what it completed.").With(s_id, reason)
            .OnStore(async (parse, store, cancellationToken) =>
            {
                var id = parse.GetValue(s_id)!;
                var result = await store.Operator.CancelAsync(id, Why(parse, reason), cancellationToken).ConfigureAwait(false);
                return Done(parse, id, "cancel", result.ToString(), result switch
                {
                    CancelResult.Requested => $"Cancel of run '{id}' requested.",
                    CancelResult.AlreadyRequested => $"A cancel of run '{id}' was requested before; nothing changed.",
                    _ => $"Run '{id}' has already ended; nothing changed.",
                });
            });
    }

    public static Command Retry()
    {
        var reason = CliCommand.Reason("retry it");
        return new Command("retry", "Retry a dead letter: its failed operation gets a fresh attempt budget, with the same idempotency key.").With(s_id, reason)
            .OnStore(async (parse, store, cancellationToken) =>
            {
                var id = parse.GetValue(s_id)!;
                await store.Operator.RetryDeadLetterAsync(id, Why(parse, reason), cancellationToken).ConfigureAwait(false);
                return Done(parse, id, "retry", "Retried", $"Run '{id}' retried; it resumes on a worker.");
            });
    }

    public static Command Discard()
    {
        var reason = CliCommand.Reason("discard it; kept on the run");
        return new Command("discard", "Discard a dead letter: a worker compensates its completed steps and ends it cancelled.").With(s_id, reason)
            .OnStore(async (parse, store, cancellationToken) =>
            {
                var id = parse.GetValue(s_id)!;
                await store.Operator.DiscardDeadLetterAsync(id, Why(parse, reason), cancellationToken).ConfigureAwait(false);
                return Done(parse, id, "discard", "Discarded", $"Run '{id}' discarded; a worker compensates it and ends it cancelled.");
            });
    }

    public static Command Signal()
    {
        var name = new Argument<string>("name") { Description = "The signal's name, as the workflow waits for it." };
        var payload = new Option<string?>("--payload") { Description = "The payload as JSON (default: null)." };
        var payloadFile = new Option<FileInfo?>("--payload-file") { Description = "Read the payload's JSON from this file instead (for a large payload)." };
        var signalId = new Option<string?>("--signal-id") { Description = "The signal's id: sending again with the same id does nothing." };
        var reason = CliCommand.Reason("send it");
        return new Command("signal", "Send a signal to a run.").With(s_id, name, payload, payloadFile, signalId, reason)
            .OnStore(async (parse, store, cancellationToken) =>
            {
                var id = parse.GetValue(s_id)!;
                var signal = parse.GetValue(name)!;
                var json = (parse.GetValue(payload), parse.GetValue(payloadFile)) switch
                {
                    ({ }, { }) => throw new ArgumentException("Give the payload once: --payload or --payload-file, not both."),
                    (_, { } file) => file.Exists
                        ? await File.ReadAllTextAsync(file.FullName, cancellationToken).ConfigureAwait(false)
                        : throw new ArgumentException($"--payload-file names '{file.FullName}', which does not exist."),
                    ({ } text, _) => text,
                    _ => "null",
                };
                var stored = await store.Operator.SignalAsync(id, signal, json, Why(parse, reason), parse.GetValue(signalId), cancellationToken).ConfigureAwait(false);
                return Done(parse, id, "signal", stored ? "Sent" : "Duplicate",
                    stored ? $"Signal '{signal}' sent to run '{id}'." : $"A signal with id '{parse.GetValue(signalId)}' was sent to run '{id}' before; nothing was sent again.");
            });
    }

    public static Command Rerun()
    {
        var from = new Option<long>("--from") { Description = "The first operation to run again: its sequence number (#) in `durably runs show`; 0 reruns it all.", Required = true };
        var newId = new Option<string?>("--as") { Description = "The new run's id (default: the original's followed by -rerun- and eight hex digits)." };
        var reason = CliCommand.Reason("rerun it");
        return new Command("rerun", "Rerun an ended run from a step, after a fix: a new run replays the original's journal before that step and runs the rest.")
            .With(s_id, from, newId, reason)
            .OnStore(async (parse, store, cancellationToken) =>
            {
                var id = parse.GetValue(s_id)!;
                var sequence = parse.GetValue(from);
                var created = await store.Operator.RerunFromAsync(id, sequence, Why(parse, reason), parse.GetValue(newId), cancellationToken).ConfigureAwait(false);
                if (parse.GetValue(CliOptions.Json))
                {
                    Output.Json(new { WorkflowId = id, Action = "rerun", Result = "Created", NewWorkflowId = created, FromSequence = sequence, Operator = CliOptions.Actor(parse) });
                    return ExitCodes.Ok;
                }

                Console.Out.WriteLine(Output.Clean($"Run '{created}' created: it replays '{id}' before operation {sequence} and runs the rest on a worker."));
                return ExitCodes.Ok;
            });
    }

    private static OperatorReason Why(ParseResult parse, Option<string> reason) => new(CliOptions.Actor(parse), parse.GetValue(reason)!);

    private static int Done(ParseResult parse, string id, string action, string result, string message)
    {
        if (parse.GetValue(CliOptions.Json))
        {
            Output.Json(new { WorkflowId = id, Action = action, Result = result, Operator = CliOptions.Actor(parse) });
        }
        else
        {
            Console.Out.WriteLine(Output.Clean(message));
        }

        return ExitCodes.Ok;
    }
}
