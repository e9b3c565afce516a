using Durably.Runtime.Engine;
using Durably.Runtime.Journal;

namespace Durably.Runtime.Policies;

/// <summary>
/// What one attempt produced: its terminal row and the exception when it failed; no row when nothing more is to be done
/// live (fenced, cancelled, or the row was terminal already).
/// </summary>
/// <param name="Terminal">The attempt's terminal row.</param>
/// <param name="Failure">What the attempt threw, when it failed.</param>
/// <param name="Transaction">A transactional step's open transaction, to commit with its journal row.</param>
/// <param name="PendingAttempt">The attempting row's write when it was sent without being waited for; the outcome's write supersedes it.</param>
internal readonly record struct AttemptOutcome(JournalEntry? Terminal, Exception? Failure, StepTransaction? Transaction = null, Task<JournalWriteResult>? PendingAttempt = null)
{
    /// <summary>The attempt was not made or its outcome is not to be recorded (fenced, cancelled, or already terminal).</summary>
    public static AttemptOutcome None => default;
}

/// <summary>
/// An operation whose body is attempted, journaled and retried by <see cref="JournaledAttempts.RunAsync"/>: a step call
/// or a compensation. Each says how it journals (through the event loop, or straight to the store) and what stops it.
/// </summary>
internal interface IAttemptedOperation
{
    /// <summary>
    /// Waits out the journaled backoff until <paramref name="retryAt"/>, if any. Returns whether to make the next attempt
    /// (not when the run started rolling back meanwhile).
    /// </summary>
    Task<bool> ReadyForAttemptAsync(DateTimeOffset? retryAt, CancellationToken token);

    /// <summary>
    /// One attempt: its attempting row journaled (the attempt count goes up), then the body once. Returns its terminal
    /// row, or <see cref="AttemptOutcome.None"/> when nothing more is to be done live.
    /// </summary>
    Task<AttemptOutcome> AttemptAsync(CancellationToken token);

    /// <summary>Whether a failed attempt may still be retried (a step's may not while the run rolls back).</summary>
    bool MayRetry { get; }

    /// <summary>Records the operation's outcome: the terminal row of its last attempt.</summary>
    Task EndAsync(AttemptOutcome outcome, CancellationToken token);

    /// <summary>
    /// Journals a failed attempt's error and the next attempt's time (<paramref name="row"/>: attempting, with
    /// <see cref="JournalEntry.RetryAt"/>), before the backoff, so a restart neither loses nor shortens it. Returns
    /// whether to go on (not when fenced or cancelled).
    /// </summary>
    Task<bool> JournalRetryAsync(JournalEntry row, Exception failure, CancellationToken token);
}

/// <summary>
/// The engine's one attempt loop, for steps and compensations alike: wait out the journaled backoff, journal an attempt
/// and run the body, then either end with the attempt's terminal row (it succeeded, its error is not retried, or the
/// policy's attempts are used up) or journal the retry and go round again.
/// </summary>
internal static class JournaledAttempts
{
    /// <summary>Runs attempts of <paramref name="operation"/> under <paramref name="retry"/> until it ends or must stop.</summary>
    /// <param name="operation">The step call or compensation.</param>
    /// <param name="retry">Its retry policy.</param>
    /// <param name="retryAt">When the next attempt is due, if a journaled backoff is in progress.</param>
    /// <param name="engine">The engine (clock and jitter of the retry time).</param>
    /// <param name="token">Stops the attempts (the execution stops).</param>
    public static async Task RunAsync(IAttemptedOperation operation, RetryPolicy retry, DateTimeOffset? retryAt, EngineContext engine, CancellationToken token)
    {
        while (await operation.ReadyForAttemptAsync(retryAt, token).ConfigureAwait(false))
        {
            var outcome = await operation.AttemptAsync(token).ConfigureAwait(false);
            if (outcome.Terminal is not { } terminal)
            {
                return;
            }

            if (outcome.Failure is not { } failure || terminal.Attempts >= retry.MaxAttempts || !retry.IsRetryable(failure) || !operation.MayRetry)
            {
                await operation.EndAsync(outcome, token).ConfigureAwait(false);
                return;
            }

            retryAt = engine.RetryTime(retry, terminal.Attempts);
            if (!await operation.JournalRetryAsync(terminal with { State = JournalEntryState.Attempting, RetryAt = retryAt }, failure, token).ConfigureAwait(false))
            {
                return;
            }
        }
    }

    /// <summary>The terminal row of an attempt whose body returned <paramref name="outputJson"/>.</summary>
    public static JournalEntry Completed(JournalEntry attempt, string? outputJson)
        => attempt with { State = JournalEntryState.Completed, OutputJson = outputJson, Error = null, RetryAt = null };

    /// <summary>The terminal row of an attempt whose body threw <paramref name="failure"/>.</summary>
    public static JournalEntry Failed(JournalEntry attempt, Exception failure)
        => attempt with { State = JournalEntryState.Failed, Error = WorkflowErrors.ToError(failure), RetryAt = null };
}
