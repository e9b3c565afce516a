using System.Collections.Concurrent;

namespace Durably.Runtime.Engine;

/// <summary>
/// The durability of a run started early (<see cref="Journal.IWorkflowStoreEarlyStarts"/>): its start committed without
/// waiting for the disk, and <c>StartAsync</c> waits on <see cref="Durable"/>. The run's execution settles it the
/// cheapest way it can: a durable write fenced by the run's row that commits makes the start durable too (the log is
/// flushed in order, and the write found the run), so a short run's end or a quick step's outcome carries it; when the
/// execution first waits for anything else, or ends, it sends the store's barrier.
/// </summary>
internal sealed class EarlyStart(Func<Task<bool>> barrier)
{
    private readonly TaskCompletionSource<bool> _durable = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _flushing;

    /// <summary>True once the start is on disk; false when the run was lost (the server restarted before its flush).</summary>
    public Task<bool> Durable => _durable.Task;

    /// <summary>A durable write fenced by the run's row committed: the start is on disk.</summary>
    public void Satisfied() => _durable.TrySetResult(true);

    /// <summary>Sends the barrier (once), unless the start is already durable.</summary>
    public void Flush()
    {
        if (!_durable.Task.IsCompleted && Interlocked.Exchange(ref _flushing, 1) == 0)
        {
            _ = FlushAsync();
        }
    }

    private async Task FlushAsync()
    {
        try
        {
            _durable.TrySetResult(await barrier().ConfigureAwait(false));
        }
        catch (Exception ex)
        {
            _durable.TrySetException(ex);
        }
    }
}

/// <summary>The early starts of this process whose executions have not ended yet, by run id.</summary>
internal sealed class EarlyStarts
{
    private readonly ConcurrentDictionary<string, EarlyStart> _open = new(StringComparer.Ordinal);

    /// <summary>Registers the start of run <paramref name="workflowId"/>, before its execution begins.</summary>
    public EarlyStart Add(string workflowId, Func<Task<bool>> barrier)
    {
        var start = new EarlyStart(barrier);
        _open[workflowId] = start;
        return start;
    }

    /// <summary>The start the execution of run <paramref name="workflowId"/> settles (null when it was not started early).</summary>
    public EarlyStart? Find(string workflowId) => _open.TryGetValue(workflowId, out var start) ? start : null;

    /// <summary>
    /// The execution of run <paramref name="workflowId"/> is over, however it went (it may never have begun): its start,
    /// if still unsettled, is settled by the barrier, and forgotten.
    /// </summary>
    public void Flush(string workflowId)
    {
        if (_open.TryRemove(workflowId, out var start))
        {
            start.Flush();
        }
    }
}
