using Durably.Runtime.Engine;
using Durably.Runtime.Journal;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Durably.Runtime.Hosting;

/// <summary>
/// The hosted worker: claims runnable runs from the store and executes them, at most
/// <see cref="DurableOptions.MaxConcurrentRuns"/> at a time. At start it takes back at once the unfinished runs of
/// its previous incarnation (same <see cref="DurableOptions.WorkerName"/>); at shutdown it stops claiming, lets runs
/// in progress finish for <see cref="DurableOptions.ShutdownDrainTimeout"/>, and releases the rest. A run started in
/// this process while the worker has a free slot is created already held by it and runs at once, without a claim.
/// </summary>
public sealed partial class DurableWorker : BackgroundService, ILocalRunner
{
    private readonly DurableEngine _engine;
    private readonly ILogger<DurableWorker> _logger;
    private readonly Dictionary<string, Task> _inFlight = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TaskCompletionSource> _reserved = new(StringComparer.Ordinal);
    private bool _takesLocalStarts;

    // Whether runs may be waiting for a slot: the last claim filled every free slot, or none was free.
    private volatile bool _mayHaveMore = true;
    private static readonly TimeSpan s_shortestIdle = TimeSpan.FromMilliseconds(5);
    private readonly CancellationTokenSource _abandon = new();
    private readonly TaskCompletionSource _loopEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly HashSet<WorkflowVersion> _reportedVersions = [];
    private DateTimeOffset? _lastVersionCheck;
    private readonly StoreOutage _outage;

    /// <summary>Creates the worker.</summary>
    /// <param name="engine">The engine that executes runs.</param>
    /// <param name="logger">Where the worker reports; nothing is logged when null.</param>
    public DurableWorker(DurableEngine engine, ILogger<DurableWorker>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(engine);
        _engine = engine;
        _logger = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger<DurableWorker>.Instance;
        var options = engine.Options;
        _outage = new StoreOutage(_logger, engine.Context.Time, DurableOptions.StoreRetryFirstDelay, options.StoreRetryMaxDelay, options.StoreOutageReportInterval);
    }

    /// <summary>How many runs this worker is executing now.</summary>
    public int RunsInProgress
    {
        get
        {
            lock (_inFlight)
            {
                return _inFlight.Count;
            }
        }
    }

    /// <summary>How many store failures the current outage has seen (zero when the store works); for tests.</summary>
    internal int StoreFailures => _outage.Failures;

    /// <summary>How many store failures the worker has met in all; for tests.</summary>
    internal int TotalStoreFailures => _outage.TotalFailures;

    /// <summary>How many store failures the last outage counted, over or not; for tests.</summary>
    internal int StoreFailuresInLastOutage => _outage.FailuresInLastOutage;

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var options = _engine.Options;
        var context = _engine.Context;
        LogStarted(_logger, options.WorkerName, options.MaxConcurrentRuns);
        context.Enter();
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                LastLoopAt = context.Time.GetUtcNow();
                if (_outage.RetryDelay is { } pause && pause > TimeSpan.Zero)
                {
                    // The store keeps failing: leave it alone for a while rather than fail again at once.
                    await context.ParkedAsync(Task.Delay(pause, context.Time, stoppingToken)).ConfigureAwait(false);
                    continue;
                }

                await LookForUnrunnableVersionsAsync(stoppingToken).ConfigureAwait(false);
                var free = options.MaxConcurrentRuns - RunsInProgress;
                if (free <= 0)
                {
                    // Every slot taken: a finishing run wakes the loop.
                    _mayHaveMore = true;
                    await context.ParkedAsync(context.RunsAvailable.WaitAsync(options.PollInterval, context.Time, stoppingToken)).ConfigureAwait(false);
                    continue;
                }

                ClaimBatch batch;
                try
                {
                    // One round trip claims up to a slot's worth of runs — only runs this build can replay (a run of a
                    // version it lacks is left for a worker that has it), never one it is executing now.
                    batch = await context.Store.ClaimRunsAsync(options.WorkerName, _engine.Registry.Runnable, InFlight(), free, options.LeaseDuration, stoppingToken)
                        .ConfigureAwait(false);
                    // Every free slot filled: more may be waiting, so a finishing run looks again at once.
                    _mayHaveMore = batch.Claimed.Count >= free;
                    // A claim that took nothing wrote nothing: on a full disk it still works, so it proves only that reads do.
                    _outage.Succeeded(write: batch.Claimed.Count > 0);
                }
                catch (DurableStoreException ex)
                {
                    _outage.Failed(ex, write: true);
                    continue;
                }

                foreach (var lease in batch.Claimed)
                {
                    StartClaimed(lease, batch.Loaded?.GetValueOrDefault(lease.WorkflowId));
                }

                if (!_takesLocalStarts)
                {
                    // The claim wrote this worker's row (its lease, where the store keeps one per worker): starts made
                    // in this process may now be created already held by it.
                    lock (_inFlight)
                    {
                        _takesLocalStarts = true;
                    }

                    context.LocalRunner ??= this;
                }

                if (batch.Claimed.Count < free)
                {
                    // Nothing more to claim now. Sleep until something may become claimable — an unloaded run falls due,
                    // another worker's lease expires — or a poll interval; a start, a signal or a finished run wakes it sooner.
                    var idle = batch.NextClaimableIn is { } next && next < options.PollInterval
                        ? TimeSpan.FromTicks(Math.Max(next.Ticks, s_shortestIdle.Ticks))
                        : options.PollInterval;
                    await context.ParkedAsync(context.RunsAvailable.WaitAsync(idle, context.Time, stoppingToken)).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            context.Leave();
            _loopEnded.TrySetResult();
        }

        lock (_inFlight)
        {
            _takesLocalStarts = false;
        }

        if (context.LocalRunner == this)
        {
            context.LocalRunner = null;
        }

        await DrainAsync(options.ShutdownDrainTimeout).ConfigureAwait(false);
        try
        {
            // Gone: this worker no longer runs anything (its runs are released above).
            await context.Store.AdvertiseAsync(options.WorkerName, [], TimeSpan.Zero, CancellationToken.None).ConfigureAwait(false);
        }
        catch (DurableStoreException ex)
        {
            LogStoreUnavailable(_logger, ex);
        }

        // Alerts of the runs that just ended are still on their way to the sinks: give them a moment.
        await context.Telemetry.Alerts.FlushAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
    }

    /// <summary>
    /// Every <see cref="DurableOptions.VersionCheckInterval"/>, advertises the versions this build registers, then looks for runs
    /// waiting for a worker whose version no live worker advertises, and says so once per version (a warning and an
    /// alert) when the oldest active run of that version is older than a lease. Then silence: never a retry loop.
    /// </summary>
    private async Task LookForUnrunnableVersionsAsync(CancellationToken stoppingToken)
    {
        var context = _engine.Context;
        var now = context.Time.GetUtcNow();
        var interval = _engine.Options.VersionCheckInterval;
        if (_lastVersionCheck is { } last && now - last < interval)
        {
            return;
        }

        _lastVersionCheck = now;
        IReadOnlyList<ActiveWorkflowVersion> versions;
        try
        {
            // Say what this build can run (for other workers' reports, and for people), then look at what waits.
            // An advertisement holds two checks and a half, so one late check does not make a live worker look gone.
            await context.Store.AdvertiseAsync(_engine.WorkerName, _engine.Registry.Runnable, interval * 2.5, stoppingToken).ConfigureAwait(false);
            _outage.Succeeded(write: true);
            versions = await context.Store.ListActiveVersionsAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (DurableStoreException ex)
        {
            // Looked at again at the next check, not at once.
            _outage.Failed(ex, write: true);
            return;
        }

        var runnable = _engine.Registry.Runnable;
        foreach (var version in versions)
        {
            if (version.WaitingForWorker > 0 && !version.HasLiveWorker && !runnable.Contains(version.Workflow)
                && now - version.OldestStartedAt >= context.LeaseDuration && _reportedVersions.Add(version.Workflow))
            {
                context.Telemetry.RunsWaitingForWorker(version, runnable);
            }
        }
    }

    /// <summary>The runs this worker is executing now.</summary>
    private string[] InFlight()
    {
        lock (_inFlight)
        {
            return [.. _inFlight.Keys];
        }
    }

    /// <summary>
    /// Executes a run the worker has just claimed, or that this process has just created held by it, from the run and
    /// journal read with the claim or the creation (<paramref name="loaded"/>), or read first when that is null.
    /// </summary>
    private void Start(RunLease lease, RunSnapshot? loaded)
    {
        // Counted as engine work from now until the execution counts itself (synchronously, as it begins).
        var context = _engine.Context;
        context.Enter();
        lock (_inFlight)
        {
            _inFlight[lease.WorkflowId] = Task.Run(() =>
            {
                try
                {
                    return ExecuteOneAsync(lease, loaded);
                }
                finally
                {
                    context.Leave();
                }
            });
        }
    }

    /// <summary>
    /// Executes a claimed run, unless a start made here created it held by this worker between the claim's list of runs
    /// in flight and its statement: that execution is fenced by the claim's newer epoch, and the next claim takes the run up.
    /// </summary>
    private void StartClaimed(RunLease lease, RunSnapshot? loaded)
    {
        lock (_inFlight)
        {
            if (!_inFlight.ContainsKey(lease.WorkflowId))
            {
                Start(lease, loaded);
                return;
            }
        }

        _engine.Context.RunsAvailable.Set();
    }

    private async Task ExecuteOneAsync(RunLease lease, RunSnapshot? loaded)
    {
        var workflowId = lease.WorkflowId;
        var unloaded = false;
        try
        {
            var result = await _engine.ExecuteClaimedAsync(lease, _abandon.Token, loaded).ConfigureAwait(false);
            _outage.Succeeded(write: true);
            unloaded = result.Outcome == ExecutionOutcome.Unloaded;
            LogExecuted(_logger, workflowId, result.Outcome, result.Status);
        }
        catch (DurableStoreException ex)
        {
            // The run stays in the store, held by this worker, which takes it up again after the outage's pause.
            _outage.Failed(ex, write: true);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !_abandon.IsCancellationRequested)
        {
            // The run stays in the store; the next poll (or another worker) tries again.
            LogExecutionFailed(_logger, workflowId, ex);
        }
        finally
        {
            _engine.Context.EarlyStarts.Flush(workflowId);
            lock (_inFlight)
            {
                _inFlight.Remove(workflowId);
            }

            // Waiters here that skipped reading the store while the run ran here read it now (when the run finished,
            // they have its outcome already and this does nothing).
            _engine.Context.NotifyFinished(workflowId);
            if (_mayHaveMore || unloaded)
            {
                // A slot is free and runs may be waiting for one: look for them now rather than at the next poll. An
                // unloaded run falls due at a time the loop's sleep does not know: it looks, then sleeps until then.
                _engine.Context.RunsAvailable.Set();
            }
        }
    }

    private async Task DrainAsync(TimeSpan timeout)
    {
        var deadline = Task.Delay(timeout, _engine.Context.Time);
        var said = false;
        while (true)
        {
            // Again until none is left: a start made here just before the worker stopped may have begun since.
            Task[] running;
            lock (_inFlight)
            {
                running = [.. _inFlight.Values];
            }

            if (running.Length == 0)
            {
                return;
            }

            if (!said)
            {
                said = true;
                LogDraining(_logger, running.Length, timeout);
            }

            var all = Task.WhenAll(running);
            if (await Task.WhenAny(all, deadline).ConfigureAwait(false) != all)
            {
                // Stop what is left: its steps in flight record nothing, and its runs are released for another worker.
                await _abandon.CancelAsync().ConfigureAwait(false);
                await all.ConfigureAwait(false);
            }
            else
            {
                await all.ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Ends once the loop has stopped claiming runs (before the worker drains), or when it never began (a stop before the
    /// loop was scheduled cancels it unrun); for the test kit's crashes.
    /// </summary>
    /// <summary>When the claim loop last went round (it does at least once a poll interval, or a store-retry pause); null before it starts.</summary>
    internal DateTimeOffset? LastLoopAt { get; private set; }

    /// <summary>Whether the claim loop has ended (the host stopped, or it failed).</summary>
    internal bool HasLoopEnded => _loopEnded.Task.IsCompleted || ExecuteTask is { IsCompleted: true };

    internal Task LoopEnded => Task.WhenAny(_loopEnded.Task, ExecuteTask ?? Task.CompletedTask);

    /// <summary>Stops every execution in flight now, without the drain's grace; for the test kit's crashes.</summary>
    internal Task AbandonAsync() => _abandon.CancelAsync();

    /// <inheritdoc/>
    public override void Dispose()
    {
        _abandon.Dispose();
        base.Dispose();
    }
}
