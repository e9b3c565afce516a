using Microsoft.Extensions.Logging;

namespace Durably.Runtime.Replay;

/// <summary>
/// <see cref="Workflow.Logger"/>: forwards to the application's logger, inside a scope naming the run, except while
/// the run method replays — so a resumed run does not write its lines again.
/// </summary>
internal sealed class ReplaySafeLogger(ILogger inner, Func<bool> replaying, RunLogScope scope) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull
        => inner.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) => !replaying() && inner.IsEnabled(logLevel);

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (replaying())
        {
            return;
        }

        using (inner.BeginScope(scope))
        {
            inner.Log(logLevel, eventId, state, exception, formatter);
        }
    }
}

/// <summary>The scope of every <see cref="Workflow.Logger"/> line: structured (<c>WorkflowId</c>, <c>WorkflowName</c>) and readable.</summary>
internal sealed class RunLogScope(string workflowId, string workflowName) : IReadOnlyList<KeyValuePair<string, object?>>
{
    public int Count => 2;

    public KeyValuePair<string, object?> this[int index] => index switch
    {
        0 => new("WorkflowId", workflowId),
        1 => new("WorkflowName", workflowName),
        _ => throw new ArgumentOutOfRangeException(nameof(index), index, "The scope has two values."),
    };

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        yield return this[0];
        yield return this[1];
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => $"Workflow {workflowName} run {workflowId}";
}
