using System.Collections.Concurrent;
using Durably.Runtime.Journal;

namespace Durably.Runtime.Engine;

/// <summary>
/// The durability of a run started early (<see cref="Journal.IWorkflowStoreEarlyStarts"/>): its start committed without
/// waiting for the disk, and <c>StartAsync</c> waits on <see cref="Durable"/>. The run's execution settles it the
/// cheapest way it can: a durable write fenced by the run's row that commits makes the start durable too (the log is
/// flushed in order, and the write found the run), so a short run's end or a quick step's outcome carries it; when the
/// execution first waits for anything else, or ends, it sends the store's barrier.
/// </summary>
/// <remarks>
/// A start may also be <em>deferred</em>: the execution begins before the run is even created, and creates it before
/// its first operation (<see cref="EnsureCreatedAsync"/>) — no step body, no journal write, runs before the create has
/// answered — or, when the run method ends before any operation, stores the run already ended, in one durable write
/// (<see cref="CreateEndedAsync"/>). <see cref="Created"/> tells the starter which run holds the id.
/// </remarks>
internal sealed class EarlyStart
{
    private readonly Func<Task<bool>> _barrier;
    private readonly Func<RunRecord, bool, Task<(RunRecord Run, bool Created)>>? _create;
    private readonly RunRecord? _pending;
    private readonly TaskCompletionSource<bool> _durable = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<(RunRecord Run, bool Created)> _created = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _flushing;
    private int _creating;

    /// <summary>A start already created (without waiting for the disk).</summary>
    public EarlyStart(Func<Task<bool>> barrier)
    {
        _barrier = barrier;
        _created.SetResult((null!, true));
    }

    /// <summary>
    /// A deferred start: <paramref name="create"/> stores a run — <paramref name="pending"/> as it starts, without waiting
    /// for the disk (second argument false), or the same run already ended, durably (true).
    /// </summary>
    public EarlyStart(RunRecord pending, Func<RunRecord, bool, Task<(RunRecord Run, bool Created)>> create, Func<Task<bool>> barrier)
    {
        _barrier = barrier;
        _pending = pending;
        _create = create;
    }

    /// <summary>True once the start is on disk; false when the run was lost (the server restarted before its flush).</summary>
    public Task<bool> Durable => _durable.Task;

    /// <summary>The run that holds the id, and whether this start created it (false: the execution begun here must write nothing).</summary>
    public Task<(RunRecord Run, bool Created)> Created => _created.Task;

    /// <summary>Whether the run is still to be created: no create has been sent yet.</summary>
    public bool IsUncreated => Volatile.Read(ref _creating) == 0 && _create is not null;

    /// <summary>Whether this start created its run (false while it has not answered, or when the id was taken).</summary>
    public bool HasCreated => _created.Task.IsCompletedSuccessfully && _created.Task.Result.Created;

    /// <summary>A durable write fenced by the run's row committed: the start is on disk.</summary>
    public void Satisfied() => _durable.TrySetResult(true);

    /// <summary>Creates the run now unless it is created or being created; true when this start holds it.</summary>
    public async Task<bool> EnsureCreatedAsync()
    {
        if (_create is not null && Interlocked.Exchange(ref _creating, 1) == 0)
        {
            await CreateAsync(_pending!, ended: false).ConfigureAwait(false);
        }

        return (await _created.Task.ConfigureAwait(false)).Created;
    }

    /// <summary>
    /// Stores the run already ended as <paramref name="ended"/> says, in one durable write, when it has not been created
    /// yet; else (or when the id is taken) returns false and the caller ends the run the usual way, or not at all.
    /// </summary>
    public async Task<bool?> CreateEndedAsync(Func<RunRecord, RunRecord> ended)
    {
        if (_create is null || Interlocked.Exchange(ref _creating, 1) != 0)
        {
            return null;
        }

        await CreateAsync(ended(_pending!), ended: true).ConfigureAwait(false);
        return (await _created.Task.ConfigureAwait(false)).Created;
    }

    private async Task CreateAsync(RunRecord run, bool ended)
    {
        try
        {
            var result = await _create!(run, ended).ConfigureAwait(false);
            _created.TrySetResult(result);
            if (ended || !result.Created)
            {
                // Stored durably at once; or not stored here at all, and nothing of this start is left to flush.
                _durable.TrySetResult(true);
            }
        }
        catch (Exception ex)
        {
            _created.TrySetException(ex);
            _durable.TrySetException(ex);
            throw;
        }
    }

    /// <summary>Sends the barrier (once), unless the start is already durable; a start not yet created is created first.</summary>
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
            if (!await EnsureCreatedAsync().ConfigureAwait(false))
            {
                return;
            }

            _durable.TrySetResult(await _barrier().ConfigureAwait(false));
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
    public EarlyStart Add(string workflowId, EarlyStart start)
    {
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
