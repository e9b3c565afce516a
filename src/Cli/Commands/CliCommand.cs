using System.CommandLine;

namespace Durably.Cli;

/// <summary>
/// Runs a command's body against the opened store and turns what it throws into a message on standard error and an
/// exit code (<see cref="ExitCodes"/>): the store's and the client's messages already name the problem.
/// </summary>
internal static class CliCommand
{
    public static Command With(this Command command, params Symbol[] symbols)
    {
        foreach (var symbol in symbols)
        {
            switch (symbol)
            {
                case Option option:
                    command.Options.Add(option);
                    break;
                case Argument argument:
                    command.Arguments.Add(argument);
                    break;
                case Command sub:
                    command.Subcommands.Add(sub);
                    break;
            }
        }

        return command;
    }

    /// <summary>Sets the command's action: open the store, run <paramref name="body"/>, close the store.</summary>
    public static Command OnStore(this Command command, Func<ParseResult, OpenStore, CancellationToken, Task<int>> body)
    {
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                await using var store = await CliOptions.OpenAsync(parse, cancellationToken).ConfigureAwait(false);
                return await body(parse, store, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                return Fail(ex);
            }
        });
        return command;
    }

    /// <summary>Prints <paramref name="error"/> as a person should read it and returns its exit code.</summary>
    public static int Fail(Exception error)
    {
        var code = ExitCodes.For(error);
        var message = Output.Clean(error.Message);
        Console.Error.WriteLine(code == ExitCodes.Failed ? $"durably: {error.GetType().Name}: {message}" : $"durably: {message}");
        if (code == ExitCodes.Failed)
        {
            Console.Error.WriteLine(error.StackTrace);
        }

        return code;
    }

    /// <summary>A required <c>--reason</c>: recorded with the action, and kept on the run for a cancel or discard.</summary>
    public static Option<string> Reason(string what) => new("--reason")
    {
        Description = $"Why you {what}; recorded with your name. Required.",
        Required = true,
    };
}
