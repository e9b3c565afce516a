using Durably.Runtime.Journal;

namespace Durably.Runtime.Replay.Operations;

/// <summary>
/// A durable timer: completes (journaled, then delivered) once the engine's clock has passed its wake time. Waiting
/// holds no thread: it is a <see cref="TimeProvider"/> timer.
/// </summary>
internal sealed class TimerOperation(IOperationHost host, long sequence, DateTimeOffset wakeAt, string caller) : WaitOperation(host, sequence)
{
    /// <summary>The operation id of every timer row.</summary>
    public const string Id = "sleep";

    private readonly TaskCompletionSource _completion = new();
    private DateTimeOffset _wakeAt = wakeAt;

    public Task Task => _completion.Task;

    public override DateTimeOffset DueAt => _wakeAt;

    protected override string OperationId => Id;

    protected override OperationKind Kind => OperationKind.Timer;

    protected override void ReadInput(string json)
        => _wakeAt = Host.Engine.Serializer.Deserialize<DateTimeOffset>(json, $"The wake time of the timer at sequence {Sequence} of {Host.RunName}");

    protected override string InputJson() => Host.Engine.Serializer.Serialize(_wakeAt, $"The wake time of {caller}");

    protected override async Task WaitAsync(JournalEntry entry, CancellationToken token)
    {
        await DelayUntilAsync(_wakeAt, Host.Engine, token).ConfigureAwait(false);
        Host.Post(new OperationFinished(this, entry with { State = JournalEntryState.Completed }));
    }

    public override void Deliver(JournalEntry terminal) => _completion.SetResult();
}
