using System.CommandLine;
using Durably.Cli;

// durably: the operator's command line over a Durably store. See docs/operations.md for the reference and exit codes.
var root = new RootCommand("Durably from the terminal: list and inspect runs, act on them, see versions in flight, purge old runs.");
CliOptions.AddTo(root);
root.Subcommands.Add(RunCommands.Runs());
root.Subcommands.Add(ActionCommands.Cancel());
root.Subcommands.Add(RunCommands.DeadLetters(ActionCommands.Retry(), ActionCommands.Discard()));
root.Subcommands.Add(ActionCommands.Signal());
root.Subcommands.Add(ActionCommands.Rerun());
root.Subcommands.Add(MaintenanceCommands.Versions());
root.Subcommands.Add(MaintenanceCommands.Purge());
root.Subcommands.Add(MaintenanceCommands.Contracts());

var parse = root.Parse(args);
if (parse.Errors.Count > 0)
{
    foreach (var error in parse.Errors)
    {
        Console.Error.WriteLine($"durably: {error.Message}");
    }

    Console.Error.WriteLine("Run 'durably --help' for the commands and their options.");
    return ExitCodes.Usage;
}

return await parse.InvokeAsync();
