using Durably.Runtime.Journal;
using Durably.Runtime.Replay.Operations;

namespace Durably.Runtime.Replay;

/// <summary>
/// What the event loop of a <see cref="RunExecution{TWorkflow, TInput, TOutput}"/> can receive, from the run method's
/// scheduler, the operations running in the background, the lease keeper and signal notifications. The loop handles
/// them one at a time, on its own thread, so only it touches the execution's state.
/// </summary>
internal abstract record ExecutionEvent
{
    /// <summary>The scheduler has work to run, or something changed that the loop should look at (a stop, a fatal error).</summary>
    public static readonly ExecutionEvent WorkPosted = new Posted();

    /// <summary>Another worker took the run: the execution stops without writing.</summary>
    public static readonly ExecutionEvent LeaseLost = new LostLease();

    /// <summary>A signal or a cancel may have been stored for the run.</summary>
    public static readonly ExecutionEvent SignalsMayHaveArrived = new SignalsPosted();

    /// <summary>A step's attempts ended (however they ended): a rollback waiting for steps to settle looks again.</summary>
    public static readonly ExecutionEvent StepEnded = new StepAttemptsEnded();

    private sealed record Posted : ExecutionEvent;

    private sealed record LostLease : ExecutionEvent;

    private sealed record SignalsPosted : ExecutionEvent;

    private sealed record StepAttemptsEnded : ExecutionEvent;
}

/// <summary>A wait's attempting row is journaled: it counts as quiescent from now, and a signal wait looks for its signal.</summary>
internal sealed record WaitReady(WaitOperation Operation) : ExecutionEvent;

/// <summary>A step starts (<paramref name="Until"/> set) or ends (null) waiting out a journaled backoff.</summary>
internal sealed record BackoffChanged(Operation Step, long Sequence, DateTimeOffset? Until) : ExecutionEvent;

/// <summary>An operation's outcome, to journal and deliver; a transactional step's comes with its open transaction.</summary>
internal sealed record OperationFinished(Operation Operation, JournalEntry Entry, StepTransaction? Transaction = null, Task<JournalWriteResult>? PendingAttempt = null) : ExecutionEvent;

/// <summary>An operation's live part threw: the execution stops with the exception.</summary>
internal sealed record BackgroundFailed(Exception Exception) : ExecutionEvent;
