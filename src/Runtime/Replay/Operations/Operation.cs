using Durably.Runtime.Engine;
using Durably.Runtime.Journal;

namespace Durably.Runtime.Replay.Operations;

/// <summary>
/// A durable operation the run method called: a step, a timer or a signal wait. The execution answers it from the
/// journal when its row is terminal there (<see cref="Deliver"/> only), and otherwise prepares its row
/// (<see cref="Prepare"/>) and starts its live part (<see cref="Start"/>), which ends by posting its outcome to the loop.
/// </summary>
internal abstract class Operation(IOperationHost host, long sequence)
{
    // TimeProvider timers take at most about 49 days: longer waits are a chain of shorter ones.
    private static readonly TimeSpan s_longestWait = TimeSpan.FromDays(30);

    /// <summary>The execution that scheduled the operation.</summary>
    protected IOperationHost Host => host;

    /// <summary>The operation's sequence number in the run.</summary>
    public long Sequence => sequence;

    /// <summary>
    /// How durable its attempting row must be before the live part goes on: durable unless the operation says it can
    /// afford to lose the row to a crash of the machine (see docs/guarantees.md).
    /// </summary>
    public virtual Journal.JournalDurability AttemptDurability => Journal.JournalDurability.Durable;

    /// <summary>The live part, once started; it ends soon after the execution's operations are cancelled.</summary>
    public Task Running { get; protected set; } = Task.CompletedTask;

    /// <summary>Set by the event loop while a step waits out a journaled backoff: until then the step holds nothing.</summary>
    public DateTimeOffset? BackoffUntil { get; set; }

    /// <summary>
    /// When the operation only waits — journaled, holding nothing — the time its wait ends
    /// (<see cref="DateTimeOffset.MaxValue"/> for never); otherwise <see langword="null"/>.
    /// </summary>
    public virtual DateTimeOffset? QuiescentUntil => BackoffUntil;

    /// <summary>Builds the row to journal when the operation is live; <paramref name="recorded"/> is its non-terminal journal row, if any.</summary>
    /// <exception cref="PayloadException">The operation's input cannot be journaled.</exception>
    public abstract void Prepare(JournalEntry? recorded);

    /// <summary>Starts the live part, once replay has ended.</summary>
    public abstract void Start();

    /// <summary>Completes the run method's await with the journaled outcome (outside the scheduler).</summary>
    /// <exception cref="PayloadException">The journaled outcome cannot be read.</exception>
    public abstract void Deliver(JournalEntry terminal);

    /// <summary>
    /// Runs an operation's live part on the thread pool, with none of the run method's ambient state. What it throws
    /// (a store that cannot be reached, say) goes to the event loop, which stops the execution with it: the run is
    /// left to be tried again, never waiting forever for an operation that is gone.
    /// </summary>
    protected Task RunInBackground(Func<Task> work)
    {
        // Counted as engine work from now (not from when the thread pool gets to it) until it ends, waits aside.
        var engine = host.Engine;
        engine.Enter();
        using (ExecutionContext.SuppressFlow())
        {
            return Task.Run(async () =>
            {
                try
                {
                    await work().ConfigureAwait(false);
                }
                catch (Exception ex) when (!(ex is OperationCanceledException && host.Stopping.IsCancellationRequested))
                {
                    host.Post(new BackgroundFailed(ex));
                }
                finally
                {
                    engine.Leave();
                }
            });
        }
    }

    /// <summary>Waits until <paramref name="due"/> by the engine's clock, holding no thread, counted as not working meanwhile.</summary>
    public static async Task DelayUntilAsync(DateTimeOffset due, EngineContext engine, CancellationToken token)
    {
        var time = engine.Time;
        for (var remaining = due - time.GetUtcNow(); remaining > TimeSpan.Zero; remaining = due - time.GetUtcNow())
        {
            // Whole milliseconds, rounded up: a timer shorter than that may fire at once, which would spin here.
            var wait = TimeSpan.FromMilliseconds(Math.Ceiling(remaining.TotalMilliseconds));
            await engine.ParkedAsync(Task.Delay(wait < s_longestWait ? wait : s_longestWait, time, token)).ConfigureAwait(false);
        }
    }
}
