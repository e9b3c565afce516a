using System.CommandLine;
using System.Diagnostics;
using System.Globalization;

namespace Durably.Cli;

/// <summary><c>versions</c>, <c>purge</c> and <c>contracts accept</c>.</summary>
internal static class MaintenanceCommands
{
    public static Command Versions() => new Command("versions", "The drain view: runs in flight per workflow version and contract.")
        .OnStore(async (parse, store, cancellationToken) =>
        {
            var versions = await store.Client.ListWorkflowVersionsAsync(cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(CliOptions.Json))
            {
                Output.Json(versions);
                return ExitCodes.Ok;
            }

            Output.Table(["WORKFLOW", "VERSION", "CONTRACT", "ACTIVE", "WAITING FOR A WORKER", "OLDEST STARTED (UTC)", "LIVE WORKER"],
                versions.Select(v => (IReadOnlyList<string?>)[v.WorkflowName, v.Version.ToString(CultureInfo.InvariantCulture), v.Fingerprint, v.ActiveRuns.ToString("N0", CultureInfo.InvariantCulture),
                    v.WaitingForWorker.ToString("N0", CultureInfo.InvariantCulture), Output.Time(v.OldestStartedAt), v.HasLiveWorker ? "yes" : "NO"]));
            return ExitCodes.Ok;
        });

    public static Command Purge()
    {
        var olderThan = new Option<string>("--older-than") { Description = "Purge runs that ended longer ago than this: 30d, 12h, 90m, 45s, or 1.12:00:00.", Required = true };
        var workflow = new Option<string?>("--workflow") { Description = "Only runs of this workflow." };
        var yes = new Option<bool>("--yes") { Description = "Confirm: a purge deletes runs and their journals for good." };
        return new Command("purge", "Delete runs that ended long ago (never running runs or dead letters), in batches.").With(olderThan, workflow, yes)
            .OnStore(async (parse, store, cancellationToken) =>
            {
                var age = Duration(parse.GetValue(olderThan)!);
                if (!parse.GetValue(yes))
                {
                    throw new ArgumentException($"A purge deletes every run that ended more than {parse.GetValue(olderThan)} ago, with its journal, for good; add --yes to go ahead.");
                }

                var json = parse.GetValue(CliOptions.Json);
                var clock = Stopwatch.StartNew();
                var progress = new Progress(purged => Console.Error.WriteLine($"purged {purged:N0} runs…"));
                var total = await store.Operator.PurgeAsync(age, parse.GetValue(workflow), json ? null : progress, cancellationToken).ConfigureAwait(false);
                if (json)
                {
                    Output.Json(new { Purged = total, OlderThan = age, Seconds = clock.Elapsed.TotalSeconds });
                }
                else
                {
                    Console.Out.WriteLine($"Purged {total:N0} runs that ended more than {parse.GetValue(olderThan)} ago, in {clock.Elapsed.TotalSeconds:0.0} s.");
                }

                return ExitCodes.Ok;
            });
    }

    public static Command Contracts()
    {
        var project = new Option<string?>("--project") { Description = "The project whose workflows' contracts to accept (default: the one in this folder)." };
        var accept = new Command("accept", "Accept the workflows' contracts as they are now (durably.contracts.json): runs the project's DurablyAcceptContracts target.").With(project);
        accept.SetAction(async (parse, cancellationToken) =>
        {
            var arguments = new List<string> { "build" };
            if (parse.GetValue(project) is { } path)
            {
                arguments.Add(path);
            }

            arguments.AddRange(["-t:DurablyAcceptContracts", "-nologo", "-v:m"]);
            var start = new ProcessStartInfo("dotnet", arguments) { UseShellExecute = false };
            using var build = Process.Start(start) ?? throw new InvalidOperationException("dotnet could not be started.");
            await build.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            return build.ExitCode == 0 ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return new Command("contracts", "Workflow contracts (see docs/versioning.md).").With(accept);
    }

    /// <summary>"30d", "12h", "90m", "45s", or a TimeSpan ("1.12:00:00").</summary>
    public static TimeSpan Duration(string text)
    {
        var units = new Dictionary<char, TimeSpan> { ['d'] = TimeSpan.FromDays(1), ['h'] = TimeSpan.FromHours(1), ['m'] = TimeSpan.FromMinutes(1), ['s'] = TimeSpan.FromSeconds(1) };
        if (text.Length > 1 && units.TryGetValue(char.ToLowerInvariant(text[^1]), out var unit)
            && double.TryParse(text[..^1], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var count) && count <= 100_000)
        {
            return unit * count;
        }

        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) && span >= TimeSpan.Zero
            ? span
            : throw new ArgumentException($"'{Output.Clean(text)}' is not a duration: write 30d, 12h, 90m, 45s or 1.12:00:00.");
    }

    /// <summary>Reports on the caller's thread, in order (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class Progress(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }
}
