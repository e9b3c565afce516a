using Durably.Runtime.Journal;

namespace Durably.Runtime.Engine;

// Early starts (IWorkflowStoreEarlyStarts): the starts whose durability their executions settle, and the outcomes of
// runs that ended before their StartAsync returned, kept for the WaitForResultAsync that follows.
internal sealed partial class EngineContext
{
    /// <summary>Runs started early here whose executions have not ended yet.</summary>
    public EarlyStarts EarlyStarts { get; } = new();

    /// <summary>How many outcomes <see cref="KeepOutcome"/> holds at most (the oldest go first).</summary>
    private const int MaxKeptOutcomes = 256;

    /// <summary>The longest output a kept outcome may carry; a larger one is read from the store when asked for.</summary>
    private const int MaxKeptOutputChars = 16 * 1024;

    private readonly Dictionary<string, RunOutcome> _kept = new(StringComparer.Ordinal);
    private readonly Queue<string> _keptOrder = new();

    /// <summary>
    /// Keeps the outcome of a run that ended here before its <c>StartAsync</c> returned (an early start whose end made it
    /// durable), for the <c>WaitForResultAsync</c> that usually follows: it takes it instead of reading the store.
    /// </summary>
    public void KeepOutcome(string workflowId, RunOutcome outcome)
    {
        if (outcome.OutputJson is { Length: > MaxKeptOutputChars })
        {
            return;
        }

        lock (_kept)
        {
            if (_kept.TryAdd(workflowId, outcome))
            {
                _keptOrder.Enqueue(workflowId);
                while (_keptOrder.Count > MaxKeptOutcomes)
                {
                    _kept.Remove(_keptOrder.Dequeue());
                }
            }
        }
    }

    /// <summary>Takes the outcome <see cref="KeepOutcome"/> kept for <paramref name="workflowId"/>, if any.</summary>
    public RunOutcome? TakeKeptOutcome(string workflowId)
    {
        lock (_kept)
        {
            return _kept.Remove(workflowId, out var outcome) ? outcome : null;
        }
    }
}
