using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Durably.Infrastructure;
using Durably.Runtime.Compensation;
using Durably.Runtime.Engine;
using Durably.Runtime.Journal;
using Durably.Runtime.Observability;
using Durably.Runtime.Replay.Operations;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime.Replay;

/// <summary>
/// One execution of a run: re-runs the run method from the top on a fresh workflow object, answers every durable
/// operation that is terminal in the journal from the journal (in the recorded completion order), checks each call
/// against the journal, and runs the rest live, journaling each outcome before the run method sees it.
/// </summary>
/// <remarks>
/// <para>
/// The run method only moves inside <see cref="RunScheduler.Drain"/>, on the thread of <see cref="RunAsync"/>.
/// Outcomes are delivered one at a time, each followed by a drain to quiescence, so the order in which the run
/// method makes its calls depends only on the order of deliveries — which the journal records.
/// </para>
/// <para>
/// One journal row has two writers, by one rule: an operation's live part (on the thread pool) writes its attempting
/// row and its retry schedule; the terminal row is written by the event loop, because only the loop assigns the
/// completion index — the order of delivery that replay repeats.
/// </para>
/// <para>
/// The parts: this file holds the loop; <c>.WorkflowApi</c> what the run method calls; <c>.Delivery</c> journaling
/// and delivering outcomes; <c>.Signals</c>, <c>.Unloading</c>, <c>.Finish</c> and <c>.Rollback</c> one concern each;
/// the operations live in <c>Operations/</c> and reach the execution through <see cref="IOperationHost"/>.
/// </para>
/// </remarks>
internal sealed partial class RunExecution<TWorkflow, TInput, TOutput> : WorkflowExecution, IOperationHost, IDisposable
    where TWorkflow : class
{
    private readonly WorkflowDefinition<TWorkflow, TInput, TOutput> _definition;
    private readonly RunSnapshot _snapshot;
    private readonly RunLease _lease;
    private readonly EngineContext _engine;
    private readonly RunScheduler _scheduler;
    private readonly ReplayCursor _cursor;
    private readonly Compensator _compensator;
    private readonly Channel<ExecutionEvent> _events = Channel.CreateUnbounded<ExecutionEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<long, Operation> _pending = [];
    private readonly List<Operation> _awaitingStart = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _settling = new();
    private readonly CancellationTokenSource _cancelBodies = new();
    private volatile bool _cancelRequested;
    private Task<TOutput>? _runTask;
    private Fatal? _fatal;
    private volatile Exception? _storeFailure;
    private bool _replayVerified;
    private (TWorkflow Workflow, TInput Input)? _start;
    private ActivityContext _activity;
    private readonly ProgressWriter _progress;
    private readonly EarlyStart? _earlyStart;

    public RunExecution(WorkflowDefinition<TWorkflow, TInput, TOutput> definition, RunSnapshot snapshot, RunLease lease, EngineContext engine)
    {
        _definition = definition;
        _snapshot = snapshot;
        _lease = lease;
        _engine = engine;
        _scheduler = new RunScheduler(() => Post(ExecutionEvent.WorkPosted));
        _cursor = new ReplayCursor(snapshot.Journal, RunName);
        _compensator = new Compensator(this, definition.Steps) { MayHaveChildren = snapshot.Journal.Any(e => e.Kind == OperationKind.Child) };
        _now = snapshot.Run.CreatedAt;
        _progress = new ProgressWriter(engine.ReplayOnly ? null : engine.StatusStore, lease, engine.Time, engine.ProgressInterval, engine.ProgressLogger,
            () => engine.Telemetry.ProgressWritten(definition.Name));
        _earlyStart = engine.ReplayOnly ? null : engine.EarlyStarts.Find(lease.WorkflowId);
    }

    public override string WorkflowId => _snapshot.Run.WorkflowId;

    private string RunName => $"run '{WorkflowId}' of workflow '{_definition.Name}' v{_definition.Version}";

    /// <summary>Executes the run under its <c>durably.run</c> activity, the parent of its step attempts' activities.</summary>
    public async Task<ExecutionResult> RunAsync(CancellationToken cancellationToken)
    {
        using var activity = EngineTelemetry.StartRun(_definition.Name, WorkflowId);
        _activity = activity?.Context ?? default;
        try
        {
            var result = await ExecuteAsync(cancellationToken).ConfigureAwait(false);
            activity?.SetTag("durably.outcome", result.Outcome.ToString());
            activity?.SetTag("durably.status", result.Status.ToString());
            if (result.Status is WorkflowStatus.Failed or WorkflowStatus.DeadLettered)
            {
                activity?.SetStatus(ActivityStatusCode.Error, result.Error?.ToString());
            }

            return result;
        }
        catch (Exception ex)
        {
            EngineTelemetry.Failed(activity, ex);
            throw;
        }
    }

    private async Task<ExecutionResult> ExecuteAsync(CancellationToken cancellationToken)
    {
        if (_snapshot.Run.IsCancelRequested)
        {
            // Cancelled before this execution: nothing of the run method needs to run, only the rollback of its journal.
            return await CompensateAndFinishAsync(CancelledOutcome(_snapshot.Run.CancelReason), cancellationToken).ConfigureAwait(false);
        }

        await using var scope = _engine.Services.CreateAsyncScope();
        // The workflow object and input live only in _start until the run method starts: no local of this method holds
        // them, so once the execution drops the run (DropRun) nothing here keeps it reachable.
        try
        {
            _start = (default!, _engine.Serializer.Deserialize<TInput>(_snapshot.Run.InputJson, $"The input of {RunName}"));
        }
        catch (PayloadException ex)
        {
            return await FinishAsync(new RunOutcome(WorkflowStatus.DeadLettered, null, WorkflowErrors.ToError(ex)), cancellationToken).ConfigureAwait(false);
        }

        if (ReplayCursor.FindUnreadable(_snapshot.Journal, RunName) is { } damaged)
        {
            // A damaged row is not a code change: park the run naming the row, rather than report a non-determinism.
            return await FinishAsync(new RunOutcome(WorkflowStatus.DeadLettered, null, WorkflowErrors.ToError(damaged), FailedSequence: damaged.Sequence), cancellationToken)
                .ConfigureAwait(false);
        }

        try
        {
            _start = (ActivatorUtilities.GetServiceOrCreateInstance<TWorkflow>(scope.ServiceProvider), _start.Value.Input);
        }
        catch
        {
            // A missing service is a deployment problem, not the run's: leave the run for a correctly configured worker.
            await ReleaseAsync().ConfigureAwait(false);
            throw;
        }

        using var signals = _engine.OnSignalled(WorkflowId, () => Post(ExecutionEvent.SignalsMayHaveArrived));
        _scheduler.Post(static state => ((RunExecution<TWorkflow, TInput, TOutput>)state!).StartRunMethod(), this);
        if (_earlyStart is not { IsUnsent: true })
        {
            RegisterHeartbeat();
        }

        try
        {
            while (true)
            {
                if (_cancelRequested && _rollbackOutcome is null)
                {
                    if (!_compensator.HasCompensations)
                    {
                        return await StopCancelledAsync(cancellationToken).ConfigureAwait(false);
                    }

                    var run = await _engine.Store.GetRunAsync(WorkflowId, cancellationToken).ConfigureAwait(false);
                    await BeginRollbackAsync(CancelledOutcome(run?.CancelReason), cancelBodies: true).ConfigureAwait(false);
                }

                if (_rollbackOutcome is { } rollback && !StepsInFlight())
                {
                    // Rolling back: every step attempt in flight has ended and its outcome is journaled, so compensate.
                    return await CompensateAndFinishAsync(rollback, cancellationToken).ConfigureAwait(false);
                }

                _scheduler.Drain();
                if (_storeFailure is { } storeFailure)
                {
                    // A write the run method waited for failed (a patch marker): stop, keeping the run for the next execution.
                    ExceptionDispatchInfo.Throw(storeFailure);
                }

                if (_fatal is { Exception: var replayFailure } && _engine.ReplayOnly)
                {
                    // The replayer reports a mismatch to its caller instead of recording it.
                    ExceptionDispatchInfo.Throw(replayFailure);
                }

                if (_replayVerified)
                {
                    return Stopped(ExecutionOutcome.Abandoned);
                }

                if (_fatal is { } fatal)
                {
                    return await FinishAsync(new RunOutcome(fatal.Status, null, WorkflowErrors.ToError(fatal.Exception)), cancellationToken).ConfigureAwait(false);
                }

                if (_cursor.TryPeekNext(out var recorded))
                {
                    DeliverFromJournal(recorded);
                    continue;
                }

                if (!_cursor.ReplayDone)
                {
                    if (!await StartWrittenAsync().ConfigureAwait(false))
                    {
                        return Stopped(ExecutionOutcome.Abandoned);
                    }

                    EndReplay();
                    continue;
                }

                if (_rollbackOutcome is null && _runTask!.IsCompleted)
                {
                    if (await RunMethodEndedAsync(_runTask, cancellationToken).ConfigureAwait(false) is { } ended)
                    {
                        return ended;
                    }

                    continue;
                }

                if (_rollbackOutcome is null && UnloadCandidate() is { } wakeAt
                    && await TryUnloadAsync(wakeAt, cancellationToken).ConfigureAwait(false) is { } unloaded)
                {
                    return unloaded;
                }

                var next = await NextEventAsync(cancellationToken).ConfigureAwait(false);
                if (await HandleAsync(next, cancellationToken).ConfigureAwait(false) is { } stopped)
                {
                    return stopped;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
            await OperationsStoppedAsync().ConfigureAwait(false);
            await ReleaseAsync().ConfigureAwait(false);
            return Stopped(ExecutionOutcome.Abandoned);
        }
        catch (Exception)
        {
            // The execution cannot go on (its store failed, say): stop what is in flight and let the caller see why. The
            // run keeps its journal; this worker (or another, once the lease lapses) takes it up again.
            await _stopping.CancelAsync().ConfigureAwait(false);
            throw;
        }
        finally
        {
            _heartbeat?.Dispose();
            _earlyStart?.Flush();
            DropRun();
        }
    }

    /// <summary>Handles one event; returns the execution's result when it makes the execution stop.</summary>
    private async Task<ExecutionResult?> HandleAsync(ExecutionEvent next, CancellationToken cancellationToken)
    {
        switch (next)
        {
            case OperationFinished finished:
                return await JournalAndDeliverAsync(finished, cancellationToken).ConfigureAwait(false) ? null : Stopped(ExecutionOutcome.Fenced);
            case BackoffChanged backoff:
                OnBackoffChanged(backoff);
                return null;
            case WaitReady ready:
                return await OnWaitReadyAsync(ready.Operation, cancellationToken).ConfigureAwait(false) ? null : Stopped(ExecutionOutcome.Fenced);
            case BackgroundFailed failed:
                ExceptionDispatchInfo.Throw(failed.Exception);
                return null;
            case var _ when next == ExecutionEvent.SignalsMayHaveArrived:
                return await LookForNewsAsync(cancellationToken).ConfigureAwait(false) ? null : Stopped(ExecutionOutcome.Fenced);
            case var _ when next == ExecutionEvent.LeaseLost:
                return Stopped(ExecutionOutcome.Fenced);
            default:
                // Work posted or a step ended: the loop looks at its state again.
                return null;
        }
    }

    private void StartRunMethod()
    {
        var (workflow, input) = _start!.Value;
        _start = null;
        // The run method captures this execution in its ExecutionContext at its first await; the engine's own flow must not.
        var previous = Current;
        SetCurrent(this);
        try
        {
            _runTask = _definition.Run(workflow, input);
        }
        catch (Exception ex)
        {
            _runTask = Task.FromException<TOutput>(ex);
        }
        finally
        {
            SetCurrent(previous);
        }
    }

    /// <summary>
    /// Lets go of the run method and its operations, so that nothing of the run stays reachable through this execution
    /// (or whatever still holds it, such as a pooled awaiter) once it returns: how an unloaded run holds no memory.
    /// </summary>
    private void DropRun()
    {
        _start = null;
        _runTask = null;
        _pending.Clear();
        _signalWaits.Clear();
        _awaitingStart.Clear();
        _cursor.Clear();
        _events.Writer.TryComplete();
        while (_events.Reader.TryRead(out var left))
        {
            _engine.Leave();
            if (left is OperationFinished { Transaction: { } transaction })
            {
                // Never committed: the step's writes roll back, and its attempt has an unknown outcome for the next execution.
                _ = transaction.DisposeAsync().AsTask();
            }
        }
    }

    /// <summary>
    /// Queues an event for the loop (from any thread). A queued event counts as engine work (<see cref="EngineContext.Busy"/>)
    /// until the loop takes it, so the engine never looks idle between an event's post and its handling.
    /// </summary>
    private void Post(ExecutionEvent executionEvent)
    {
        _engine.Enter();
        if (!_events.Writer.TryWrite(executionEvent))
        {
            // The execution has ended: nothing will take it.
            _engine.Leave();
        }
    }

    /// <summary>
    /// The loop's next event, waited for counted as not working. The loop stops counting itself as it waits; the event it
    /// takes brings its own count, which becomes the loop's.
    /// </summary>
    private async ValueTask<ExecutionEvent> NextEventAsync(CancellationToken cancellationToken)
    {
        // The run waits for something other than its own write: a start not yet durable is flushed now, beside it.
        _earlyStart?.Flush();
        _engine.Leave();
        try
        {
            return await _events.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _engine.Enter();
            throw;
        }
    }

    /// <summary>The run is to be cancelled: the loop stops it before anything else (called from any thread).</summary>
    private void RequestStop()
    {
        _cancelRequested = true;
        Post(ExecutionEvent.WorkPosted);
    }

    private void SetFatal(Exception exception, WorkflowStatus status)
    {
        Interlocked.CompareExchange(ref _fatal, new Fatal(exception, status), null);
        Post(ExecutionEvent.WorkPosted);
    }

    public void Dispose()
    {
        _progress.Dispose();
        _stopping.Dispose();
        _settling.Dispose();
        _cancelBodies.Dispose();
    }

    private sealed record Fatal(Exception Exception, WorkflowStatus Status);
}
