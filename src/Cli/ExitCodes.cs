namespace Durably.Cli;

/// <summary>What <c>durably</c> exits with; scripts branch on these (docs/operations.md lists them).</summary>
internal static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Ok = 0;

    /// <summary>Something unexpected failed; the message says what.</summary>
    public const int Failed = 1;

    /// <summary>The command line is wrong: an unknown command or option, a missing or malformed value (a payload over the limit), no store named.</summary>
    public const int Usage = 2;

    /// <summary>No run has the id given.</summary>
    public const int NotFound = 3;

    /// <summary>The run is not in a state that allows the action (not dead-lettered, already ended, its instance key held, still running for a rerun, a rerun inside a fan-out).</summary>
    public const int Refused = 4;

    /// <summary>The store could not be opened or read: a missing file, an unreachable server, not a Durably store.</summary>
    public const int Store = 5;

    /// <summary>The exit code for <paramref name="error"/>, and whether it is one the user can act on (no stack trace then).</summary>
    public static int For(Exception error) => error switch
    {
        WorkflowNotFoundException => NotFound,
        WorkflowNotDeadLetteredException or WorkflowNotRunningException or WorkflowInstanceActiveException or InvalidOperationException => Refused,
        ArgumentException or FormatException or PayloadException => Usage,
        DurableStoreException or NotSupportedException or FileNotFoundException => Store,
        _ => Failed,
    };
}
