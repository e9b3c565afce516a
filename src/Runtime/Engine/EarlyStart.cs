using System.Collections.Concurrent;
using Durably.Runtime.Journal;

namespace Durably.Runtime.Engine;

/// <summary>
/// The durability of a run started early (<see cref="IWorkflowStoreEarlyStarts"/>): its start committed without
/// waiting for the disk, and <c>StartAsync</c> waits on <see cref="Durable"/>. The run's execution settles it the
/// cheapest way it can: a durable write fenced by the run's row that commits makes the start durable too (the log is
/// flushed in order, and the write found the run), so a short run's end or a quick step's outcome carries it; when the
/// execution first waits for anything else, or ends, it sends the store's barrier.
/// </summary>
/// <remarks>
/// A start may also be <em>unsent</em>: the run begins in memory before its row is written at all. The execution sends
/// the row before the run's first write of any kind (<see cref="WrittenAsync"/>) — or, when the run's end is its only
/// write, the row goes already ended in that one durable write (<see cref="TryEndAsync"/>). Until then nothing of the
/// run is in the store, so nothing of it may reach the outside world: every step, child, timer or signal starts only
/// after <see cref="WrittenAsync"/> said the row was created. <see cref="Created"/> tells the start whether it was
/// (an id already used is not created, and the execution stops without writing anything).
/// </remarks>
internal sealed class EarlyStart
{
    private readonly TaskCompletionSource<bool> _durable = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<(RunRecord Run, bool Created)> _created = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Func<Task<bool>> _barrier;
    private readonly IWorkflowStoreEarlyStarts? _store;
    private RunRecord? _unsent;
    private int _flushing;

    /// <summary>A start whose row is already committed (without waiting for the disk).</summary>
    public EarlyStart(Func<Task<bool>> barrier) => _barrier = barrier;

    /// <summary>A start whose row, <paramref name="unsent"/>, the execution sends before the run's first write.</summary>
    public EarlyStart(Func<Task<bool>> barrier, RunRecord unsent, IWorkflowStoreEarlyStarts store)
    {
        _barrier = barrier;
        _unsent = unsent;
        _store = store;
    }

    /// <summary>True once the start is on disk; false when the run was lost (the server restarted before its flush) or never created.</summary>
    public Task<bool> Durable => _durable.Task;

    /// <summary>An unsent start's row as stored, and whether it was created (false: its id was already used).</summary>
    public Task<(RunRecord Run, bool Created)> Created => _created.Task;

    /// <summary>Whether the run's row has not been sent yet.</summary>
    public bool IsUnsent => Volatile.Read(ref _unsent) is not null;

    /// <summary>A durable write fenced by the run's row committed: the start is on disk.</summary>
    public void Satisfied() => _durable.TrySetResult(true);

    /// <summary>
    /// Sends the run's row if it is still unsent (without waiting for the disk), and returns whether the run exists as
    /// this start made it: true at once for a start already sent; false when its id was already used.
    /// </summary>
    public async Task<bool> WrittenAsync()
    {
        if (Interlocked.Exchange(ref _unsent, null) is { } run)
        {
            await SettleAsync(() => _store!.CreateRunEarlyAsync(run, CancellationToken.None)).ConfigureAwait(false);
        }

        return _store is null || (await _created.Task.ConfigureAwait(false)).Created;
    }

    /// <summary>Starts <see cref="WrittenAsync"/> without waiting for it (its outcome is awaited before the write that needs it).</summary>
    public void Send() => _ = WrittenAsync();

    /// <summary>
    /// When the run's row is still unsent, writes it already ended with <paramref name="outcome"/>, durably, and returns
    /// whether it was created; null when the row was sent before (the end is written as any run's end). Created, the
    /// start is durable, but waiters learn it from <see cref="Satisfied"/>, which the execution calls after handing the
    /// outcome over.
    /// </summary>
    public async Task<bool?> TryEndAsync(RunOutcome outcome)
    {
        if (outcome.Continuation is not null || Interlocked.Exchange(ref _unsent, null) is not { } run)
        {
            return null;
        }

        // Created, the start is durable with the end; the execution says so (Satisfied) once it has handed the outcome over.
        return await SettleAsync(() => _store!.CreateEndedRunAsync(run, outcome, CancellationToken.None)).ConfigureAwait(false);
    }

    private async Task<bool> SettleAsync(Func<Task<(RunRecord Run, bool Created)>> send)
    {
        try
        {
            var result = await send().ConfigureAwait(false);
            _created.TrySetResult(result);
            if (!result.Created)
            {
                // Nothing of this start exists: whoever waits for its durability goes on.
                _durable.TrySetResult(false);
            }

            return result.Created;
        }
        catch (Exception ex)
        {
            _created.TrySetException(ex);
            _durable.TrySetException(ex);
            throw;
        }
    }

    /// <summary>Sends the row if still unsent, then the barrier (once), unless the start is already durable.</summary>
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
            if (await WrittenAsync().ConfigureAwait(false))
            {
                _durable.TrySetResult(await _barrier().ConfigureAwait(false));
            }
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

    /// <summary>Registers <paramref name="start"/>, the start of run <paramref name="workflowId"/>, before its execution begins.</summary>
    public EarlyStart Add(string workflowId, EarlyStart start)
    {
        _open[workflowId] = start;
        return start;
    }

    /// <summary>The start the execution of run <paramref name="workflowId"/> settles (null when it was not started early).</summary>
    public EarlyStart? Find(string workflowId) => _open.TryGetValue(workflowId, out var start) ? start : null;

    /// <summary>
    /// The execution of run <paramref name="workflowId"/> is over, however it went (it may never have begun): its start,
    /// if still unsettled, is settled — its row sent if still unsent, then the barrier — and forgotten.
    /// </summary>
    public void Flush(string workflowId)
    {
        if (_open.TryRemove(workflowId, out var start))
        {
            start.Flush();
        }
    }
}
