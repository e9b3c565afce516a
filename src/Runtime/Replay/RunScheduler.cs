namespace Durably.Runtime.Replay;

/// <summary>
/// The single-threaded scheduler a run method executes on: a <see cref="SynchronizationContext"/> (where awaits
/// resume) and a <see cref="TaskScheduler"/> (where tasks started from the run method go), sharing one queue.
/// Nothing runs until the engine drains the queue, so the engine decides when the run method moves.
/// </summary>
internal sealed class RunScheduler : SynchronizationContext
{
    private readonly Queue<(SendOrPostCallback Callback, object? State)> _queue = new();
    private readonly Lock _gate = new();
    private readonly Action _onPosted;

    /// <param name="onPosted">Called (from any thread) whenever work is queued, to wake the engine.</param>
    public RunScheduler(Action onPosted)
    {
        _onPosted = onPosted;
        TaskScheduler = new RunTaskScheduler(this);
    }

    /// <summary>The task scheduler that queues onto this scheduler.</summary>
    public TaskScheduler TaskScheduler { get; }

    /// <summary>Whether the calling code runs on this scheduler (inside <see cref="Drain"/>).</summary>
    public bool IsCurrent => Current == this;

    /// <inheritdoc/>
    public override void Post(SendOrPostCallback d, object? state)
    {
        lock (_gate)
        {
            _queue.Enqueue((d, state));
        }

        _onPosted();
    }

    /// <inheritdoc/>
    public override void Send(SendOrPostCallback d, object? state)
        => throw new NotSupportedException("A workflow's run method cannot block on its own scheduler.");

    /// <inheritdoc/>
    public override SynchronizationContext CreateCopy() => this;

    /// <summary>Runs queued work, and the work it queues, until the queue is empty: the run method is then quiescent.</summary>
    public void Drain()
    {
        var previous = Current;
        SetSynchronizationContext(this);
        try
        {
            while (TryDequeue(out var item))
            {
                item.Callback(item.State);
            }
        }
        finally
        {
            SetSynchronizationContext(previous);
        }
    }

    /// <summary>Runs <paramref name="action"/> with no synchronization context, so that awaits on the scheduler post back to it.</summary>
    public static void RunOutside(Action action)
    {
        var previous = Current;
        SetSynchronizationContext(null);
        try
        {
            action();
        }
        finally
        {
            SetSynchronizationContext(previous);
        }
    }

    private bool TryDequeue(out (SendOrPostCallback Callback, object? State) item)
    {
        lock (_gate)
        {
            return _queue.TryDequeue(out item);
        }
    }

    private sealed class RunTaskScheduler(RunScheduler owner) : TaskScheduler
    {
        public override int MaximumConcurrencyLevel => 1;

        protected override void QueueTask(Task task) => owner.Post(static state =>
        {
            var (scheduler, queued) = ((RunTaskScheduler, Task))state!;
            scheduler.TryExecuteTask(queued);
        }, (this, task));

        protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued)
            => !taskWasPreviouslyQueued && owner.IsCurrent && TryExecuteTask(task);

        protected override IEnumerable<Task>? GetScheduledTasks() => null;
    }
}
