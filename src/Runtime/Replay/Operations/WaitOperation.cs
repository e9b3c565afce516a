using Durably.Runtime.Journal;

namespace Durably.Runtime.Replay.Operations;

/// <summary>
/// A wait (timer or signal): its attempting row, holding the wait's input (wake time or deadline), is written once,
/// when the wait is first reached; on replay the journaled row is the one that counts. The live part runs in the
/// background until the wait ends or the execution stops, which leaves the journaled input for the next execution.
/// </summary>
internal abstract class WaitOperation(IOperationHost host, long sequence) : Operation(host, sequence)
{
    private JournalEntry? _draft;
    private bool _journaled;

    /// <summary>The journaled attempting row, once written.</summary>
    public JournalEntry? Entry { get; private set; }

    /// <summary>Set by the event loop once the row is journaled (and a signal wait has looked for its signal).</summary>
    public bool IsReady { get; set; }

    /// <summary>When the wait ends by itself: the wake time or the deadline; <see cref="DateTimeOffset.MaxValue"/> for never.</summary>
    public abstract DateTimeOffset DueAt { get; }

    /// <summary>The signal the wait asks for; null for a timer.</summary>
    public virtual string? SignalName => null;

    public override DateTimeOffset? QuiescentUntil => IsReady ? DueAt : null;

    protected abstract string OperationId { get; }

    protected abstract OperationKind Kind { get; }

    public sealed override void Prepare(JournalEntry? recorded)
    {
        if (recorded is not null)
        {
            ReadInput(recorded.InputJson ?? "null");
        }

        _journaled = recorded is not null;
        _draft = recorded ?? JournalEntry.Attempting(Host.WorkflowId, Sequence, OperationId, Kind, InputJson(), Host.Engine.UtcNow());
    }

    public sealed override void Start() => Running = RunInBackground(async () =>
    {
        var token = Host.Stopping;
        try
        {
            var entry = _journaled ? _draft! : await Host.RecordAttemptAsync(this, _draft!, token).ConfigureAwait(false);
            if (entry is not null)
            {
                Entry = entry;
                // Ready means quiescent: the run may unload from here on, so whatever the wait needs done first is done now.
                await BeforeWaitingAsync(entry, token).ConfigureAwait(false);
                Host.Post(new WaitReady(this));
                await WaitAsync(entry, token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
    });

    /// <summary>
    /// Work the wait needs done before the run may unload (a child wait creates its child): it runs after the attempting
    /// row is journaled, on every execution, so it must be idempotent.
    /// </summary>
    protected virtual Task BeforeWaitingAsync(JournalEntry entry, CancellationToken token) => Task.CompletedTask;

    /// <summary>Takes the journaled input (wake time or deadline) over the one computed live.</summary>
    protected abstract void ReadInput(string json);

    protected abstract string InputJson();

    /// <summary>The live wait, once the attempting row is journaled; ends by posting an event to the loop.</summary>
    protected abstract Task WaitAsync(JournalEntry entry, CancellationToken token);
}
