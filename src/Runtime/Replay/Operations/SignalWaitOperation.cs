using Durably.Runtime.Journal;

namespace Durably.Runtime.Replay.Operations;

/// <summary>
/// A signal wait: completed by the event loop, either with a signal taken from the store in the same write or, once
/// the deadline has passed, with no output (timed out). Between notifications it looks for signals every poll
/// interval, for senders the store cannot announce.
/// </summary>
internal sealed class SignalWaitOperation<T>(IOperationHost host, long sequence, string name, DateTimeOffset? deadline) : WaitOperation(host, sequence)
{
    private readonly TaskCompletionSource<SignalResult<T>> _completion = new();
    private DateTimeOffset? _deadline = deadline;

    public Task<SignalResult<T>> Task => _completion.Task;

    public override DateTimeOffset DueAt => _deadline ?? DateTimeOffset.MaxValue;

    public override string? SignalName => name;

    protected override string OperationId => name;

    protected override OperationKind Kind => OperationKind.Signal;

    private string What => $"signal '{name}' (sequence {Sequence}) of {Host.RunName}";

    protected override void ReadInput(string json)
        => _deadline = Host.Engine.Serializer.Deserialize<DateTimeOffset?>(json, $"The deadline of the wait for {What}");

    protected override string InputJson() => Host.Engine.Serializer.Serialize(_deadline, $"The deadline of the wait for {What}");

    protected override async Task WaitAsync(JournalEntry entry, CancellationToken token)
    {
        var engine = Host.Engine;
        while (!_completion.Task.IsCompleted)
        {
            var now = engine.Time.GetUtcNow();
            if (_deadline is { } due && now >= due)
            {
                Host.Post(new OperationFinished(this, entry with { State = JournalEntryState.Completed, OutputJson = null }));
                return;
            }

            var pause = _deadline is { } until && until - now < engine.PollInterval ? until - now : engine.PollInterval;
            await engine.ParkedAsync(System.Threading.Tasks.Task.Delay(pause, engine.Time, token)).ConfigureAwait(false);
            if (_deadline is not { } deadline || engine.Time.GetUtcNow() < deadline)
            {
                // A poll for a signal another process stored. At the deadline, the timeout is posted first (above): a
                // signal stored after it is not taken by this wait.
                Host.Post(ExecutionEvent.SignalsMayHaveArrived);
            }
        }
    }

    public override void Deliver(JournalEntry terminal)
        => _completion.SetResult(terminal.OutputJson is null
            ? SignalResult<T>.TimedOut
            : SignalResult<T>.Received(Host.Engine.Serializer.Deserialize<T>(terminal.OutputJson, $"The payload of {What}")));
}
