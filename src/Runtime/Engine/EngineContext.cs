using System.Collections.Concurrent;
using Durably.Runtime.Journal;

namespace Durably.Runtime.Engine;

/// <summary>What every run execution of one engine shares.</summary>
internal sealed class EngineContext(IWorkflowStore store, PayloadSerializer serializer, TimeProvider time, IServiceProvider services)
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _finished = new(StringComparer.Ordinal);

    public IWorkflowStore Store { get; } = store;

    public PayloadSerializer Serializer { get; } = serializer;

    public TimeProvider Time { get; } = time;

    public IServiceProvider Services { get; } = services;

    /// <summary>
    /// The current time at millisecond precision: what every store can keep, so that a journaled time read back on
    /// replay (<see cref="Workflow.Now"/>) equals the one the live execution saw.
    /// </summary>
    public DateTimeOffset UtcNow()
    {
        var now = Time.GetUtcNow();
        return now.AddTicks(-(now.Ticks % TimeSpan.TicksPerMillisecond));
    }

    /// <summary>Completes when this process next sees <paramref name="workflowId"/> finish; callers re-read the store either way.</summary>
    public Task WhenFinished(string workflowId)
        => _finished.GetOrAdd(workflowId, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public void NotifyFinished(string workflowId)
    {
        if (_finished.TryRemove(workflowId, out var waiters))
        {
            waiters.TrySetResult();
        }
    }
}
