using System.Diagnostics;
using System.Threading.Channels;
using Durably.Infrastructure;
using Durably.Runtime.Engine;
using Durably.Runtime.Journal;
using Durably.Runtime.Observability;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly.Timeout;

namespace Durably.Runtime.Replay;

/// <summary>
/// One execution of a run: re-runs the run method from the top on a fresh workflow object, answers every durable
/// operation that is terminal in the journal from the journal (in the recorded completion order), checks each call
/// against the journal, and runs the rest live, journaling each outcome before the run method sees it.
/// </summary>
/// <remarks>
/// The run method only moves inside <see cref="RunScheduler.Drain"/>, on the thread of <see cref="RunAsync"/>.
/// Outcomes are delivered one at a time, each followed by a drain to quiescence, so the order in which the run
/// method makes its calls depends only on the order of deliveries — which the journal records.
/// </remarks>
internal sealed partial class RunExecution<TWorkflow, TInput, TOutput> : WorkflowExecution, IDisposable
    where TWorkflow : class
{
    private readonly WorkflowDefinition<TWorkflow, TInput, TOutput> _definition;
    private readonly RunSnapshot _snapshot;
    private readonly RunLease _lease;
    private readonly EngineContext _engine;
    private readonly RunScheduler _scheduler;
    private readonly Channel<Event> _events = Channel.CreateUnbounded<Event>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<long, JournalEntry> _journal;
    private readonly Queue<JournalEntry> _replay;
    private readonly Dictionary<long, Operation> _pending = [];
    private readonly SortedDictionary<long, WaitOperation> _signalWaits = [];
    private readonly List<Operation> _awaitingStart = [];
    private readonly CancellationTokenSource _stepCancellation = new();
    private readonly CancellationTokenSource _settle = new();
    private readonly CancellationTokenSource _cancelBodies = new();
    private readonly long _lastJournaledSequence;
    private ILogger? _logger;
    private long _nextSequence;
    private long _nextCompletionIndex;
    private long _guidCounter;
    private DateTimeOffset _now;
    private Random? _random;
    private bool _replayDone;
    private volatile bool _cancelRequested;
    private long _changes;
    private long _unloadTriedAt = -1;
    private Task<TOutput>? _runTask;
    private Fatal? _fatal;
    private (TWorkflow Workflow, TInput Input)? _start;
    private ActivityContext _activity;

    public RunExecution(WorkflowDefinition<TWorkflow, TInput, TOutput> definition, RunSnapshot snapshot, RunLease lease, EngineContext engine)
    {
        _definition = definition;
        _snapshot = snapshot;
        _lease = lease;
        _engine = engine;
        _scheduler = new RunScheduler(() => _events.Writer.TryWrite(Event.WorkPosted));
        _journal = snapshot.Journal.ToDictionary(e => e.Sequence);
        // Compensations are the engine's, not the run method's: they are never replayed to it.
        _replay = new Queue<JournalEntry>(snapshot.Journal.Where(e => e.IsTerminal && e.Kind != OperationKind.Compensation).OrderBy(e => e.CompletionIndex));
        _nextCompletionIndex = snapshot.Journal.Where(e => e.IsTerminal).Select(e => e.CompletionIndex ?? -1).DefaultIfEmpty(-1).Max() + 1;
        _now = snapshot.Run.CreatedAt;
        _lastJournaledSequence = snapshot.Journal.Count == 0 ? -1 : snapshot.Journal.Max(e => e.Sequence);
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
            return await FinishAsync(new RunOutcome(WorkflowStatus.DeadLettered, null, ToError(ex)), cancellationToken).ConfigureAwait(false);
        }

        try
        {
            _start = (ActivatorUtilities.GetServiceOrCreateInstance<TWorkflow>(scope.ServiceProvider), _start.Value.Input);
        }
        catch
        {
            // A missing service is a deployment problem, not the run's: leave the run for a correctly configured worker.
            await _engine.Store.ReleaseAsync(_lease, CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        using var signals = _engine.OnSignalled(WorkflowId, () => _events.Writer.TryWrite(Event.SignalsPosted));
        _scheduler.Post(static state => ((RunExecution<TWorkflow, TInput, TOutput>)state!).StartRunMethod(), this);
        using var renewal = new CancellationTokenSource();
        var renewing = RenewLeaseAsync(renewal.Token);
        try
        {
            while (true)
            {
                if (_cancelRequested && _settledOutcome is null)
                {
                    if (!HasCompensations)
                    {
                        return await StopCancelledAsync(cancellationToken).ConfigureAwait(false);
                    }

                    var run = await _engine.Store.GetRunAsync(WorkflowId, cancellationToken).ConfigureAwait(false);
                    await BeginSettlingAsync(CancelledOutcome(run?.CancelReason), cancelBodies: true).ConfigureAwait(false);
                }

                if (_settledOutcome is { } settled)
                {
                    // Rolling back: once every step attempt in flight has ended and its outcome is journaled, compensate.
                    if (!StepsInFlight())
                    {
                        return await CompensateAndFinishAsync(settled, cancellationToken).ConfigureAwait(false);
                    }
                }

                _scheduler.Drain();
                if (_fatal is { } fatal)
                {
                    return await FinishAsync(new RunOutcome(fatal.Status, null, ToError(fatal.Exception)), cancellationToken).ConfigureAwait(false);
                }

                if (_replay.TryPeek(out var recorded))
                {
                    DeliverFromJournal(recorded);
                    continue;
                }

                if (!_replayDone)
                {
                    EndReplay();
                    continue;
                }

                if (_settledOutcome is null && _runTask!.IsCompleted)
                {
                    var outcome = RunMethodOutcome(_runTask);
                    if (outcome.Status != WorkflowStatus.Failed || !_runTask.IsFaulted)
                    {
                        return await FinishAsync(outcome, cancellationToken).ConfigureAwait(false);
                    }

                    if (FailureRuleFor(_runTask.Exception!.InnerException!) == FailureRule.Park)
                    {
                        return await FinishAsync(outcome with { Status = WorkflowStatus.DeadLettered }, cancellationToken).ConfigureAwait(false);
                    }

                    if (!HasCompensations)
                    {
                        return await FinishAsync(outcome, cancellationToken).ConfigureAwait(false);
                    }

                    await BeginSettlingAsync(outcome, cancelBodies: false).ConfigureAwait(false);
                    continue;
                }

                if (_settledOutcome is null && UnloadCandidate() is { } wakeAt)
                {
                    switch (await _engine.Store.SuspendAsync(_lease, wakeAt, PendingSignalNames(), cancellationToken).ConfigureAwait(false))
                    {
                        case SuspendOutcome.Suspended:
                            // Only waits are pending: stop them and let them end, so nothing of the run stays reachable.
                            await _stepCancellation.CancelAsync().ConfigureAwait(false);
                            await Task.WhenAll(_pending.Values.Select(o => o.Running)).ConfigureAwait(false);
                            return Stopped(ExecutionOutcome.Unloaded);
                        case SuspendOutcome.Fenced:
                            return Stopped(ExecutionOutcome.Fenced);
                        case SuspendOutcome.CancelRequested:
                            RequestStop();
                            continue;
                        default:
                            _events.Writer.TryWrite(Event.SignalsPosted);
                            break;
                    }
                }

                var next = await _events.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                switch (next)
                {
                    case OperationFinished finished:
                        if (!await JournalAndDeliverAsync(finished, cancellationToken).ConfigureAwait(false))
                        {
                            return Stopped(ExecutionOutcome.Fenced);
                        }

                        break;
                    case BackoffChanged backoff:
                        if (_pending.TryGetValue(backoff.Sequence, out var pending) && ReferenceEquals(pending, backoff.Step))
                        {
                            backoff.Step.BackoffUntil = backoff.Until;
                            _changes++;
                        }

                        break;
                    case WaitReady ready:
                        ready.Operation.IsReady = true;
                        _changes++;
                        if (ready.Operation.SignalName is null)
                        {
                            break;
                        }

                        _signalWaits[ready.Operation.Sequence] = ready.Operation;
                        if (!await TakeSignalAsync(cancellationToken).ConfigureAwait(false))
                        {
                            return Stopped(ExecutionOutcome.Fenced);
                        }

                        break;
                    case SignalsMayHaveArrived:
                        if (!await LookForNewsAsync(cancellationToken).ConfigureAwait(false))
                        {
                            return Stopped(ExecutionOutcome.Fenced);
                        }

                        break;
                    case LostLease:
                        return Stopped(ExecutionOutcome.Fenced);
                    case BackgroundFailed failed:
                        System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failed.Exception);
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await _stepCancellation.CancelAsync().ConfigureAwait(false);
            await _engine.Store.ReleaseAsync(_lease, CancellationToken.None).ConfigureAwait(false);
            return Stopped(ExecutionOutcome.Abandoned);
        }
        catch (Exception)
        {
            // The execution cannot go on (its store failed, say): stop what is in flight and let the caller see why. The
            // run keeps its journal; this worker (or another, once the lease lapses) takes it up again.
            await _stepCancellation.CancelAsync().ConfigureAwait(false);
            throw;
        }
        finally
        {
            await renewal.CancelAsync().ConfigureAwait(false);
            await renewing.ConfigureAwait(false);
            DropRun();
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
        _replay.Clear();
        _journal.Clear();
        while (_events.Reader.TryRead(out var left))
        {
            if (left is OperationFinished { Transaction: { } transaction })
            {
                // Never committed: the step's writes roll back, and its attempt has an unknown outcome for the next execution.
                _ = transaction.DisposeAsync().AsTask();
            }
        }
    }

    /// <summary>
    /// The wake time to unload the run with, when it is quiescent — every pending operation is a wait that is journaled
    /// and has looked for its signal, and no event is queued — and its earliest wait ends later than
    /// <see cref="EngineContext.UnloadThreshold"/> from now. Asked once per change of the pending operations.
    /// </summary>
    private DateTimeOffset? UnloadCandidate()
    {
        if (_pending.Count == 0 || _unloadTriedAt == _changes || _events.Reader.TryPeek(out _) || _engine.UnloadThreshold == Timeout.InfiniteTimeSpan)
        {
            return null;
        }

        var wakeAt = DateTimeOffset.MaxValue;
        foreach (var operation in _pending.Values)
        {
            if (operation.QuiescentUntil is not { } due)
            {
                return null;
            }

            wakeAt = due < wakeAt ? due : wakeAt;
        }

        _unloadTriedAt = _changes;
        return wakeAt - _engine.Time.GetUtcNow() > _engine.UnloadThreshold
            ? (wakeAt > RunRecord.WakeOnSignalOnly ? RunRecord.WakeOnSignalOnly : wakeAt)
            : null;
    }

    private string[] PendingSignalNames()
        => [.. _pending.Values.OfType<WaitOperation>().Select(w => w.SignalName).OfType<string>().Distinct(StringComparer.Ordinal)];

    /// <summary>Keeps the lease alive while the execution runs; a refused renewal means another worker took the run.</summary>
    private async Task RenewLeaseAsync(CancellationToken stop)
    {
        var interval = _engine.LeaseDuration / 3;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, _engine.Time, stop).ConfigureAwait(false);
                switch (await _engine.Store.RenewAsync(_lease, _engine.LeaseDuration, stop).ConfigureAwait(false))
                {
                    case LeaseRenewal.Lost:
                        _events.Writer.TryWrite(Event.LeaseLost);
                        return;
                    case LeaseRenewal.CancelRequested:
                        // A cancel no notification announced (e.g. sent by another process to a SQLite file).
                        RequestStop();
                        break;
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (DurableStoreException)
            {
                // A failed renewal is retried at the next interval; the lease only lapses if the store stays unreachable.
            }
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

    /// <summary>Delivers the next journaled outcome, which the run method must have asked for by now.</summary>
    private void DeliverFromJournal(JournalEntry recorded)
    {
        if (!_pending.Remove(recorded.Sequence, out var operation))
        {
            SetFatal(new NonDeterminismException(
                $"Non-determinism in {RunName}: the journal recorded {Describe(recorded)} at sequence {recorded.Sequence}, "
                + $"but the run method {(_runTask!.IsCompleted ? "returned" : "is waiting")} without calling it.",
                recorded.Sequence), WorkflowStatus.DeadLettered);
            return;
        }

        _replay.Dequeue();
        Deliver(operation, recorded);
    }

    /// <summary>Replay has delivered every journaled outcome: check nothing journaled went uncalled, then go live.</summary>
    private void EndReplay()
    {
        _replayDone = true;
        var uncalled = _journal.Values.Where(e => e.Sequence >= _nextSequence).OrderBy(e => e.Sequence).FirstOrDefault();
        if (uncalled is not null)
        {
            SetFatal(new NonDeterminismException(
                $"Non-determinism in {RunName}: the journal recorded {Describe(uncalled)} at sequence {uncalled.Sequence}, "
                + "but the run method did not call it.",
                uncalled.Sequence), WorkflowStatus.DeadLettered);
            return;
        }

        foreach (var operation in _awaitingStart)
        {
            operation.Start();
        }

        _awaitingStart.Clear();
    }

    /// <summary>
    /// A signal or a cancel may have been stored for the run: with live signal waits, they look for their signals (each
    /// write also reports a cancel); without, the run's row is read for a cancel request.
    /// </summary>
    private async Task<bool> LookForNewsAsync(CancellationToken cancellationToken)
    {
        if (_signalWaits.Any(w => _pending.TryGetValue(w.Key, out var operation) && ReferenceEquals(operation, w.Value)))
        {
            return await TakeSignalAsync(cancellationToken).ConfigureAwait(false);
        }

        if ((await _engine.Store.GetRunAsync(WorkflowId, cancellationToken).ConfigureAwait(false))?.IsCancelRequested == true)
        {
            RequestStop();
        }

        return true;
    }

    /// <summary>
    /// Gives the first signal wait (by sequence) that a signal is waiting for its signal, journaled in the same write. One
    /// delivery per call, so that the run method drains between deliveries as it does on replay; when one was made,
    /// the loop is asked to look again.
    /// </summary>
    private async Task<bool> TakeSignalAsync(CancellationToken cancellationToken)
    {
        foreach (var (sequence, wait) in _signalWaits.ToList())
        {
            if (!_pending.TryGetValue(sequence, out var operation) || !ReferenceEquals(operation, wait))
            {
                _signalWaits.Remove(sequence);
                continue;
            }

            var completed = wait.Entry! with { State = JournalEntryState.Completed, CompletionIndex = _nextCompletionIndex, CompletedAt = _engine.UtcNow() };
            var taken = await _engine.Store.TakeSignalAsync(_lease, completed, wait.SignalName!, cancellationToken).ConfigureAwait(false);
            if (taken.Fenced)
            {
                return false;
            }

            if (taken.CancelRequested)
            {
                RequestStop();
                return true;
            }

            if (taken.Entry is not { } entry)
            {
                continue;
            }

            _nextCompletionIndex = Math.Max(_nextCompletionIndex, (entry.CompletionIndex ?? _nextCompletionIndex) + 1);
            _signalWaits.Remove(sequence);
            _pending.Remove(sequence);
            _changes++;
            Deliver(operation, entry);
            _events.Writer.TryWrite(Event.SignalsPosted);
            return true;
        }

        return true;
    }

    private async Task<bool> JournalAndDeliverAsync(OperationFinished finished, CancellationToken cancellationToken)
    {
        // A signal wait's timeout can arrive after a signal completed the wait: the first outcome stands.
        if (!_pending.TryGetValue(finished.Entry.Sequence, out var current) || !ReferenceEquals(current, finished.Operation))
        {
            if (finished.Transaction is { } unused)
            {
                await unused.DisposeAsync().ConfigureAwait(false);
            }

            return true;
        }

        _signalWaits.Remove(finished.Entry.Sequence);
        var entry = finished.Entry with
        {
            CompletionIndex = _nextCompletionIndex++,
            CompletedAt = _engine.UtcNow(),
        };
        // A transactional step's writes commit with its journal row, the fenced update last in their transaction.
        var written = finished.Transaction is { } transaction
            ? await _engine.TransactionalStore!.CommitStepAsync(_lease, entry, transaction, cancellationToken).ConfigureAwait(false)
            : await _engine.Store.CompleteEntryAsync(_lease, entry, cancellationToken).ConfigureAwait(false);
        if (written.Fenced)
        {
            return false;
        }

        if (entry.Kind == OperationKind.Step && written.Entry?.CompletionIndex == entry.CompletionIndex)
        {
            _engine.Telemetry.StepJournaled(_definition.Name, entry.OperationId, entry.State == JournalEntryState.Completed);
        }

        if (written.CancelRequested)
        {
            // The outcome is journaled (the work was done) but not delivered: the run stops here.
            RequestStop();
            return true;
        }

        _pending.Remove(entry.Sequence);
        _journal[entry.Sequence] = written.Entry!;
        _changes++;
        Deliver(finished.Operation, written.Entry!);
        return true;
    }

    private void Deliver(Operation operation, JournalEntry terminal)
    {
        _now = terminal.CompletedAt ?? _now;
        // Outside the scheduler: awaits in the run method post their continuations to it (and run at the next drain);
        // a ConfigureAwait(false) continuation runs here, off the scheduler, where its next durable call is caught.
        RunScheduler.RunOutside(() =>
        {
            try
            {
                operation.Deliver(terminal);
            }
            catch (PayloadException ex)
            {
                SetFatal(new PayloadException($"The journal of {RunName} cannot be read at sequence {terminal.Sequence} ({Describe(terminal)}): {ex.Message}", ex.PayloadType, ex), WorkflowStatus.DeadLettered);
            }
        });
    }

    private RunOutcome RunMethodOutcome(Task<TOutput> run)
    {
        if (run.IsCompletedSuccessfully)
        {
            try
            {
                return new RunOutcome(WorkflowStatus.Completed, _engine.Serializer.Serialize(run.Result, $"The result of {RunName}"), null);
            }
            catch (PayloadException ex)
            {
                return new RunOutcome(WorkflowStatus.Failed, null, ToError(ex));
            }
        }

        var exception = run.Exception?.InnerException ?? new OperationCanceledException($"The run method of {RunName} was cancelled.");
        return exception is ContinueAsNewException continuation
            ? ContinueAsNew(continuation)
            : new RunOutcome(WorkflowStatus.Failed, null, ToError(exception), FailedSequence: (exception as StepFailedException)?.Sequence);
    }

    /// <summary>The run ends and a fresh run of the same workflow starts with the carried-forward input.</summary>
    private RunOutcome ContinueAsNew(ContinueAsNewException continuation)
    {
        if (continuation.Input is not TInput && !(continuation.Input is null && default(TInput) is null))
        {
            return new RunOutcome(WorkflowStatus.Failed, null, ToError(new ArgumentException(
                $"The run method of {RunName} continued as new with a {continuation.InputType.FullName} input, but the workflow's input is {typeof(TInput).FullName}.")));
        }

        string inputJson;
        try
        {
            inputJson = _engine.Serializer.Serialize((TInput)continuation.Input!, $"The input {RunName} continues as new with");
        }
        catch (PayloadException ex)
        {
            return new RunOutcome(WorkflowStatus.Failed, null, ToError(ex));
        }

        var run = _snapshot.Run;
        var now = _engine.UtcNow();
        var next = new RunRecord(RunRecord.ContinuationId(run.WorkflowId, run.Generation), _definition.Name, _definition.Version, inputJson,
            WorkflowStatus.Running, null, null, null, 0, null, now, now, Generation: run.Generation + 1, InstanceKey: run.InstanceKey);
        return new RunOutcome(WorkflowStatus.ContinuedAsNew, null, null, next);
    }

    private async Task<ExecutionResult> FinishAsync(RunOutcome outcome, CancellationToken cancellationToken)
    {
        await _stepCancellation.CancelAsync().ConfigureAwait(false);
        if (outcome.Continuation is { } next && await _engine.Store.GetRunAsync(next.WorkflowId, cancellationToken).ConfigureAwait(false) is { } taken)
        {
            outcome = new RunOutcome(WorkflowStatus.Failed, null, ToError(new InvalidOperationException(
                $"The run method of {RunName} continued as new, but the id of the next run, '{next.WorkflowId}', is already used by a run of '{taken.WorkflowName}'.")));
        }

        var written = await _engine.Store.CompleteRunAsync(_lease, outcome, cancellationToken).ConfigureAwait(false);
        if (!written)
        {
            return Stopped(ExecutionOutcome.Fenced);
        }

        _engine.Telemetry.RunFinished(_definition.Name, _definition.Version, WorkflowId, outcome.Status, outcome.Error, FailedStepOf(outcome.FailedSequence), outcome.FailedSequence);
        _engine.NotifyFinished(WorkflowId);
        if (outcome.Continuation is not null)
        {
            _engine.RunsAvailable.Set();
        }

        return new ExecutionResult(WorkflowId, ExecutionOutcome.Finished, outcome.Status, outcome.Error);
    }

    /// <summary>The step at <paramref name="sequence"/>, or whose compensation is there.</summary>
    private string? FailedStepOf(long? sequence)
        => sequence is not { } at ? null
            : _journal.TryGetValue(at >= 0 ? at : -at - 1, out var row) ? row.OperationId
            : null;

    /// <summary>The run is to be cancelled: the loop stops it before anything else (called from any thread).</summary>
    private void RequestStop()
    {
        _cancelRequested = true;
        _events.Writer.TryWrite(Event.WorkPosted);
    }

    /// <summary>Ends the run <see cref="WorkflowStatus.Cancelled"/> with the reason the store keeps; steps in flight are cancelled.</summary>
    private async Task<ExecutionResult> StopCancelledAsync(CancellationToken cancellationToken)
    {
        var run = await _engine.Store.GetRunAsync(WorkflowId, cancellationToken).ConfigureAwait(false);
        return await FinishAsync(CancelledOutcome(run?.CancelReason), cancellationToken).ConfigureAwait(false);
    }

    private static RunOutcome CancelledOutcome(string? reason)
        => new(WorkflowStatus.Cancelled, null, new WorkflowError(
            typeof(OperationCanceledException).FullName!, string.IsNullOrEmpty(reason) ? "Cancelled; no reason was given." : reason));

    private ExecutionResult Stopped(ExecutionOutcome outcome)
        => new(WorkflowId, outcome, WorkflowStatus.Running, null);

    // ---- WorkflowExecution: what the run method calls ----

    public override DateTimeOffset GetNow(string caller)
    {
        EnsureOnScheduler(caller);
        return _now;
    }

    public override bool IsReplaying(string caller)
    {
        EnsureOnScheduler(caller);
        return Replaying;
    }

    /// <summary>
    /// The run method is re-running code an earlier execution ran: outcomes are still to come from the journal, or the
    /// journal holds an operation it has not called yet (so it reached further before).
    /// </summary>
    private bool Replaying => _replay.Count > 0 || _nextSequence <= _lastJournaledSequence;

    public override ILogger GetLogger(string caller)
    {
        EnsureOnScheduler(caller);
        return _logger ??= new ReplaySafeLogger(
            (_engine.Services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance).CreateLogger(typeof(TWorkflow).FullName ?? typeof(TWorkflow).Name),
            () => Replaying,
            new RunLogScope(WorkflowId, _definition.Name));
    }

    public override Guid NewGuid(string caller)
    {
        EnsureOnScheduler(caller);
        return DeterministicValues.NewGuid(WorkflowId, _guidCounter++);
    }

    public override Random GetRandom(string caller)
    {
        EnsureOnScheduler(caller);
        return _random ??= new Random(DeterministicValues.Seed(WorkflowId));
    }

    public override Task<TStepOutput> CallStepAsync<TStepWorkflow, TStepInput, TStepOutput>(
        TStepWorkflow workflow, StepDefinition<TStepWorkflow, TStepInput, TStepOutput> step, TStepInput input)
    {
        if (!_scheduler.IsCurrent)
        {
            var error = new OffSchedulerCallException($"Step '{step.Id}' in {RunName}");
            SetFatal(error, WorkflowStatus.Failed);
            return Task.FromException<TStepOutput>(error);
        }

        var sequence = _nextSequence++;
        var operation = new StepOperation<TStepWorkflow, TStepInput, TStepOutput>(this, sequence, workflow, step, input);
        return Schedule(operation, sequence, step.Id, OperationKind.Step, $"step '{step.Id}'") is { } failed
            ? Task.FromException<TStepOutput>(failed)
            : operation.Task;
    }

    public override Task SleepAsync(TimeSpan delay, DateTimeOffset? wakeAt, string caller)
    {
        EnsureOnScheduler(caller);
        var now = _engine.UtcNow();
        if (wakeAt is null && delay > DateTimeOffset.MaxValue - now)
        {
            throw new ArgumentOutOfRangeException(nameof(delay), delay, $"{caller}({delay}) would wake after {DateTimeOffset.MaxValue:O}, the latest time there is.");
        }

        var sequence = _nextSequence++;
        var operation = new TimerOperation(this, sequence, wakeAt ?? now + delay, caller);
        return Schedule(operation, sequence, TimerOperation.Id, OperationKind.Timer, $"a durable timer ({caller})") is { } error
            ? Task.FromException(error)
            : operation.Task;
    }

    public override Task<SignalResult<T>> WaitForSignalAsync<T>(string name, TimeSpan timeout, string caller)
    {
        EnsureOnScheduler(caller);
        var now = _engine.UtcNow();
        DateTimeOffset? deadline = timeout == Timeout.InfiniteTimeSpan || timeout > DateTimeOffset.MaxValue - now ? null : now + timeout;
        var sequence = _nextSequence++;
        var operation = new SignalWaitOperation<T>(this, sequence, name, deadline);
        return Schedule(operation, sequence, name, OperationKind.Signal, $"a wait for signal '{name}' ({caller})") is { } error
            ? Task.FromException<SignalResult<T>>(error)
            : operation.Task;
    }

    /// <summary>
    /// Checks a durable call against the journal at its sequence number, then answers it from the journal when the row
    /// is terminal there, or starts it (after replay, when its turn comes). Returns the error that fails the call, if any.
    /// </summary>
    private Exception? Schedule(Operation operation, long sequence, string operationId, OperationKind kind, string called)
    {
        if (_settledOutcome is not null)
        {
            // Rolling back: the run method goes no further (its operation never completes).
            return null;
        }

        if (_journal.TryGetValue(sequence, out var recorded) && (recorded.OperationId != operationId || recorded.Kind != kind))
        {
            SetFatal(new NonDeterminismException(
                $"Non-determinism in {RunName}: at sequence {sequence} the run method called {called}, "
                + $"but the journal recorded {Describe(recorded)}.",
                sequence), WorkflowStatus.DeadLettered);
            return null;
        }

        _pending.Add(sequence, operation);
        _changes++;
        if (recorded is { IsTerminal: true })
        {
            return null;
        }

        try
        {
            operation.Prepare(recorded);
        }
        catch (PayloadException ex)
        {
            _pending.Remove(sequence);
            return ex;
        }

        if (_replayDone)
        {
            operation.Start();
        }
        else
        {
            _awaitingStart.Add(operation);
        }

        return null;
    }

    private void EnsureOnScheduler(string caller)
    {
        if (!_scheduler.IsCurrent)
        {
            var error = new OffSchedulerCallException($"{caller} in {RunName}");
            SetFatal(error, WorkflowStatus.Failed);
            throw error;
        }
    }

    private void SetFatal(Exception exception, WorkflowStatus status)
    {
        Interlocked.CompareExchange(ref _fatal, new Fatal(exception, status), null);
        _events.Writer.TryWrite(Event.WorkPosted);
    }

    /// <summary>
    /// The journaled form of an exception: its type name and message, the message made storable — U+0000 (which
    /// PostgreSQL text cannot hold) becomes U+FFFD, and beyond <see cref="MaxErrorMessageLength"/> characters it is cut,
    /// saying how long it was.
    /// </summary>
    internal static WorkflowError ToError(Exception exception)
    {
        var message = exception.Message.Replace('\0', '\uFFFD');
        if (message.Length > MaxErrorMessageLength)
        {
            message = $"{message[..MaxErrorMessageLength]}… (cut; {message.Length} characters in all)";
        }

        return new(exception.GetType().FullName ?? exception.GetType().Name, message);
    }

    /// <summary>The longest exception message journaled whole.</summary>
    internal const int MaxErrorMessageLength = 8192;

    private static string Describe(JournalEntry entry) => $"{entry.Kind.ToString().ToLowerInvariant()} '{entry.OperationId}'";

    public void Dispose()
    {
        _stepCancellation.Dispose();
        _settle.Dispose();
        _cancelBodies.Dispose();
    }

    // ---- operations ----

    private abstract class Operation
    {
        /// <summary>The live part, once started; it ends soon after the execution's operations are cancelled.</summary>
        public Task Running { get; protected set; } = System.Threading.Tasks.Task.CompletedTask;

        /// <summary>Set by the event loop while a step waits out a journaled backoff: until then the step holds nothing.</summary>
        public DateTimeOffset? BackoffUntil { get; set; }

        /// <summary>
        /// When the operation only waits — journaled, holding nothing — the time its wait ends
        /// (<see cref="DateTimeOffset.MaxValue"/> for never); otherwise <see langword="null"/>.
        /// </summary>
        public virtual DateTimeOffset? QuiescentUntil => BackoffUntil;

        public abstract void Prepare(JournalEntry? recorded);

        public abstract void Start();

        public abstract void Deliver(JournalEntry terminal);

        /// <summary>
        /// Runs an operation's live part on the thread pool, with none of the run method's ambient state. What it throws
        /// (a store that cannot be reached, say) goes to the event loop, which stops the execution with it: the run is
        /// left to be tried again, never waiting forever for an operation that is gone.
        /// </summary>
        protected static Task RunInBackground(RunExecution<TWorkflow, TInput, TOutput> execution, Func<Task> work)
        {
            using (ExecutionContext.SuppressFlow())
            {
                return System.Threading.Tasks.Task.Run(async () =>
                {
                    try
                    {
                        await work().ConfigureAwait(false);
                    }
                    catch (Exception ex) when (!(ex is OperationCanceledException && execution._stepCancellation.IsCancellationRequested))
                    {
                        execution._events.Writer.TryWrite(new BackgroundFailed(ex));
                    }
                });
            }
        }
    }

    // TimeProvider timers take at most about 49 days: longer waits are a chain of shorter ones.
    private static readonly TimeSpan s_longestWait = TimeSpan.FromDays(30);

    /// <summary>Waits until <paramref name="due"/> by <paramref name="time"/>, holding no thread.</summary>
    private static async Task DelayUntilAsync(DateTimeOffset due, TimeProvider time, CancellationToken token)
    {
        for (var remaining = due - time.GetUtcNow(); remaining > TimeSpan.Zero; remaining = due - time.GetUtcNow())
        {
            // Whole milliseconds, rounded up: a timer shorter than that may fire at once, which would spin here.
            var wait = TimeSpan.FromMilliseconds(Math.Ceiling(remaining.TotalMilliseconds));
            await Task.Delay(wait < s_longestWait ? wait : s_longestWait, time, token).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Writes an operation's attempting row. Returns the stored row to go on with, or null when there is nothing more to
    /// do live: the writer was fenced or the run is being cancelled (the loop is told), or the row is terminal already
    /// (the loop gets it to deliver).
    /// </summary>
    private async Task<JournalEntry?> RecordAttemptAsync(Operation operation, JournalEntry draft, CancellationToken token)
    {
        var attempt = await _engine.Store.RecordAttemptAsync(_lease, draft, token).ConfigureAwait(false);
        if (attempt.Fenced)
        {
            _events.Writer.TryWrite(Event.LeaseLost);
            return null;
        }

        if (attempt.CancelRequested)
        {
            RequestStop();
            return null;
        }

        if (attempt.Entry!.IsTerminal)
        {
            _events.Writer.TryWrite(new OperationFinished(operation, attempt.Entry));
            return null;
        }

        return attempt.Entry;
    }

    /// <summary>
    /// A step call: each attempt is journaled before its body runs; a failed attempt is retried by the step's policy —
    /// its error and the next attempt's time journaled first, so a restart neither loses nor shortens the backoff, and a
    /// long backoff lets the run unload like any wait — until it succeeds or the policy gives up.
    /// </summary>
    private sealed class StepOperation<TStepWorkflow, TStepInput, TStepOutput>(
        RunExecution<TWorkflow, TInput, TOutput> execution, long sequence, TStepWorkflow workflow, StepDefinition<TStepWorkflow, TStepInput, TStepOutput> step, TStepInput input)
        : Operation
        where TStepWorkflow : class
    {
        // Continuations run synchronously where the result is set: the engine sets it outside the scheduler, so
        // awaits in the run method post back to the scheduler in a deterministic order.
        private readonly TaskCompletionSource<TStepOutput> _completion = new();
        private JournalEntry? _draft;
        private DateTimeOffset? _retryAt;
        private JournalEntry? _failed;

        public Task<TStepOutput> Task => _completion.Task;

        private string What => $"step '{step.Id}' (sequence {sequence}) of {execution.RunName}";

        public override void Prepare(JournalEntry? recorded)
        {
            var inputJson = recorded?.InputJson ?? execution._engine.Serializer.Serialize(input, $"The arguments of {What}");
            _draft = new JournalEntry(execution.WorkflowId, sequence, step.Id, OperationKind.Step, JournalEntryState.Attempting,
                inputJson, null, null, 0, null, recorded?.StartedAt ?? execution._engine.UtcNow(), null);
            _retryAt = recorded is { State: JournalEntryState.Attempting } ? recorded.RetryAt : null;
            _failed = _retryAt is null ? null : _draft with { State = JournalEntryState.Failed, Error = recorded!.Error };
        }

        /// <summary>Runs the attempts in the background; the loop is told when they end, so a rollback knows when they settled.</summary>
        public override void Start() => Running = RunInBackground(execution, async () =>
        {
            try
            {
                await ExecuteAsync().ConfigureAwait(false);
            }
            finally
            {
                execution._events.Writer.TryWrite(Event.StepEnded);
            }
        });

        private async Task ExecuteAsync()
        {
            var engine = execution._engine;
            var events = execution._events.Writer;
            var token = execution._stepCancellation.Token;
            StepPolicies policies;
            try
            {
                policies = engine.PoliciesFor(step);
            }
            catch (ArgumentException ex)
            {
                execution.SetFatal(ex, WorkflowStatus.Failed);
                return;
            }

            try
            {
                using var backoff = CancellationTokenSource.CreateLinkedTokenSource(token, execution._settle.Token);
                while (true)
                {
                    if (_retryAt is { } due)
                    {
                        events.TryWrite(new BackoffChanged(this, sequence, due));
                        try
                        {
                            await DelayUntilAsync(due, engine.Time, backoff.Token).ConfigureAwait(false);
                        }
                        catch (OperationCanceledException) when (!token.IsCancellationRequested)
                        {
                        }

                        events.TryWrite(new BackoffChanged(this, sequence, null));
                    }

                    if (execution._settledOutcome is not null)
                    {
                        // Rolling back: no further attempt; a failed one waiting for its retry ends as failed.
                        if (_failed is { } failed)
                        {
                            events.TryWrite(new OperationFinished(this, failed));
                        }

                        return;
                    }

                    // The attempt is journaled inside the breaker: an open breaker holds it back without using up an attempt.
                    var outcome = await policies.ExecuteAsync(attemptToken => AttemptAsync(policies, attemptToken), token).ConfigureAwait(false);
                    if (outcome.Terminal is not { } terminal)
                    {
                        return;
                    }

                    var failure = outcome.Failure;
                    if (failure is null || terminal.Attempts >= policies.Retry.MaxAttempts || !policies.Retry.IsRetryable(failure) || execution._settledOutcome is not null)
                    {
                        if (outcome.Transaction is { } transaction && token.IsCancellationRequested)
                        {
                            // The execution stopped: nobody will commit, so roll back now.
                            await transaction.DisposeAsync().ConfigureAwait(false);
                            return;
                        }

                        events.TryWrite(new OperationFinished(this, terminal, outcome.Transaction));
                        return;
                    }

                    var retryAt = engine.RetryTime(policies.Retry, terminal.Attempts);
                    var scheduled = await engine.Store.ScheduleRetryAsync(execution._lease, terminal with { State = JournalEntryState.Attempting, RetryAt = retryAt }, token).ConfigureAwait(false);
                    if (scheduled.Fenced)
                    {
                        events.TryWrite(Event.LeaseLost);
                        return;
                    }

                    if (scheduled.CancelRequested)
                    {
                        execution.RequestStop();
                        return;
                    }

                    engine.Telemetry.StepRetryScheduled(execution._definition.Name, step.Id, execution.WorkflowId, sequence, terminal.Attempts, retryAt, failure);
                    _retryAt = retryAt;
                    _failed = terminal;
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                // The execution stopped: an attempt in flight has an unknown outcome and nothing is recorded for it.
            }
        }

        /// <summary>
        /// One attempt: its attempting row journaled, then the body in its own DI scope under the step's timeout. Returns
        /// the terminal row it produced and the exception when it failed, or <see cref="AttemptOutcome.None"/>.
        /// </summary>
        private async Task<AttemptOutcome> AttemptAsync(StepPolicies policies, CancellationToken token)
        {
            if (await execution.RecordAttemptAsync(this, _draft!, token).ConfigureAwait(false) is not { } entry)
            {
                return AttemptOutcome.None;
            }

            var engine = execution._engine;
            var scope = engine.Services.CreateAsyncScope();
            Task<TStepOutput>? body = null;
            // A cancelled run's rollback cancels the bodies in flight and records how they end.
            using var bodyCancellation = CancellationTokenSource.CreateLinkedTokenSource(token, execution._cancelBodies.Token);
            using var activity = EngineTelemetry.StartStepAttempt(execution._activity, execution._definition.Name, execution.WorkflowId, step.Id, sequence, entry.Attempts,
                StepContext.CreateIdempotencyKey(execution.WorkflowId, step.Id, sequence));
            var started = engine.Time.GetTimestamp();
            var outcome = "completed";
            StepTransaction? transaction = null;
            try
            {
                if (step.Transactional)
                {
                    transaction = await engine.TransactionalStore!.BeginStepTransactionAsync(token).ConfigureAwait(false);
                }

                var result = await policies.TimeoutPipeline.ExecuteAsync(async attemptToken =>
                {
                    StepContext.SetCurrent(new StepContext(execution.WorkflowId, step.Id, sequence, entry.Attempts, scope.ServiceProvider, attemptToken) { StoreTransaction = transaction });
                    body = step.Invoke(workflow, input, attemptToken);
                    // A body that ignores its token is not waited for past the timeout or a stop: its late outcome is discarded.
                    return await body.WaitAsync(attemptToken).ConfigureAwait(false);
                }, bodyCancellation.Token).ConfigureAwait(false);
                var completed = new AttemptOutcome(entry with { State = JournalEntryState.Completed, OutputJson = engine.Serializer.Serialize(result, $"The result of {What}"), Error = null, RetryAt = null }, null, transaction);
                // The event loop commits the transaction with the journal row, in delivery order.
                transaction = null;
                return completed;
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex)
            {
                // The step's own timeout, not one the body's code raised through Polly with another limit.
                var failure = ex is TimeoutRejectedException timedOut && timedOut.Timeout == policies.Timeout
                    ? new StepTimeoutException(step.Id, entry.Attempts, timedOut.Timeout, timedOut)
                    : ex;
                outcome = failure is StepTimeoutException ? "timed_out" : "failed";
                EngineTelemetry.Failed(activity, failure);
                return new(entry with { State = JournalEntryState.Failed, Error = ToError(failure), RetryAt = null }, failure);
            }
            finally
            {
                if (!token.IsCancellationRequested)
                {
                    engine.Telemetry.StepAttemptEnded(execution._definition.Name, step.Id, engine.Time.GetElapsedTime(started), outcome);
                }

                if (transaction is not null)
                {
                    // A failed or stopped attempt: its writes roll back (once a body that ignored its token returns).
                    _ = DisposeWhenDoneAsync(body ?? System.Threading.Tasks.Task.CompletedTask, transaction);
                }

                if (body is null || body.IsCompleted)
                {
                    await scope.DisposeAsync().ConfigureAwait(false);
                }
                else
                {
                    _ = DisposeWhenDoneAsync(body, scope);
                }
            }
        }

        /// <summary>Disposes an abandoned attempt's scope (or transaction) once its body returns, so the body never sees it disposed.</summary>
        private static async Task DisposeWhenDoneAsync(Task body, IAsyncDisposable resource)
        {
            await body.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await resource.DisposeAsync().ConfigureAwait(false);
        }

        public override void Deliver(JournalEntry terminal)
        {
            if (terminal.State == JournalEntryState.Failed)
            {
                _completion.SetException(new StepFailedException(step.Id, sequence, terminal.Error ?? new WorkflowError("Unknown", "no error was recorded")));
                return;
            }

            var result = execution._engine.Serializer.Deserialize<TStepOutput>(terminal.OutputJson ?? "null", $"The result of {What}");
            _completion.SetResult(result);
        }
    }

    /// <summary>
    /// A wait (timer or signal): its attempting row, holding the wait's input (wake time or deadline), is written once,
    /// when the wait is first reached; on replay the journaled row is the one that counts. The live part runs in the
    /// background until the wait ends or the execution stops, which leaves the journaled input for the next execution.
    /// </summary>
    private abstract class WaitOperation(RunExecution<TWorkflow, TInput, TOutput> execution, long sequence) : Operation
    {
        private JournalEntry? _draft;
        private bool _journaled;

        protected RunExecution<TWorkflow, TInput, TOutput> Execution => execution;

        public long Sequence => sequence;

        /// <summary>The journaled attempting row, once written.</summary>
        public JournalEntry? Entry { get; private set; }

        /// <summary>Set by the event loop once the row is journaled (and a signal wait has looked for its signal).</summary>
        public bool IsReady { get; set; }

        /// <summary>When the wait ends by itself: the wake time or the deadline; <see cref="DateTimeOffset.MaxValue"/> for never.</summary>
        public abstract DateTimeOffset DueAt { get; }

        /// <summary>The signal the wait asks for; null for a timer.</summary>
        public virtual string? SignalName => null;

        public sealed override void Prepare(JournalEntry? recorded)
        {
            if (recorded is not null)
            {
                ReadInput(recorded.InputJson ?? "null");
            }

            _journaled = recorded is not null;
            _draft = recorded ?? new JournalEntry(execution.WorkflowId, sequence, OperationId, Kind, JournalEntryState.Attempting,
                InputJson(), null, null, 0, null, execution._engine.UtcNow(), null);
        }

        public override DateTimeOffset? QuiescentUntil => IsReady ? DueAt : null;

        public sealed override void Start() => Running = RunInBackground(execution, async () =>
        {
            var token = execution._stepCancellation.Token;
            try
            {
                var entry = _journaled ? _draft! : await execution.RecordAttemptAsync(this, _draft!, token).ConfigureAwait(false);
                if (entry is not null)
                {
                    Entry = entry;
                    execution._events.Writer.TryWrite(new WaitReady(this));
                    await WaitAsync(entry, token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
            }
        });

        protected abstract string OperationId { get; }

        protected abstract OperationKind Kind { get; }

        /// <summary>Takes the journaled input (wake time or deadline) over the one computed live.</summary>
        protected abstract void ReadInput(string json);

        protected abstract string InputJson();

        /// <summary>The live wait, once the attempting row is journaled; ends by posting an event to the loop.</summary>
        protected abstract Task WaitAsync(JournalEntry entry, CancellationToken token);
    }

    /// <summary>
    /// A durable timer: completes (journaled, then delivered) once the engine's clock has passed its wake time. Waiting
    /// holds no thread: it is a <see cref="TimeProvider"/> timer.
    /// </summary>
    private sealed class TimerOperation(RunExecution<TWorkflow, TInput, TOutput> execution, long sequence, DateTimeOffset wakeAt, string caller)
        : WaitOperation(execution, sequence)
    {
        /// <summary>The operation id of every timer row.</summary>
        public const string Id = "sleep";

        private readonly TaskCompletionSource _completion = new();
        private DateTimeOffset _wakeAt = wakeAt;

        public Task Task => _completion.Task;

        protected override string OperationId => Id;

        protected override OperationKind Kind => OperationKind.Timer;

        public override DateTimeOffset DueAt => _wakeAt;

        protected override void ReadInput(string json)
            => _wakeAt = Execution._engine.Serializer.Deserialize<DateTimeOffset>(json, $"The wake time of the timer at sequence {Sequence} of {Execution.RunName}");

        protected override string InputJson() => Execution._engine.Serializer.Serialize(_wakeAt, $"The wake time of {caller}");

        protected override async Task WaitAsync(JournalEntry entry, CancellationToken token)
        {
            await DelayUntilAsync(_wakeAt, Execution._engine.Time, token).ConfigureAwait(false);
            Execution._events.Writer.TryWrite(new OperationFinished(this, entry with { State = JournalEntryState.Completed }));
        }

        public override void Deliver(JournalEntry terminal) => _completion.SetResult();
    }

    /// <summary>
    /// A signal wait: completed by the event loop, either with a signal taken from the store in the same write or, once
    /// the deadline has passed, with no output (timed out). Between notifications it looks for signals every poll
    /// interval, for senders the store cannot announce.
    /// </summary>
    private sealed class SignalWaitOperation<T>(RunExecution<TWorkflow, TInput, TOutput> execution, long sequence, string name, DateTimeOffset? deadline)
        : WaitOperation(execution, sequence)
    {
        private readonly TaskCompletionSource<SignalResult<T>> _completion = new();
        private DateTimeOffset? _deadline = deadline;

        public Task<SignalResult<T>> Task => _completion.Task;

        protected override string OperationId => name;

        protected override OperationKind Kind => OperationKind.Signal;

        public override DateTimeOffset DueAt => _deadline ?? DateTimeOffset.MaxValue;

        public override string? SignalName => name;

        private string What => $"signal '{name}' (sequence {Sequence}) of {Execution.RunName}";

        protected override void ReadInput(string json)
            => _deadline = Execution._engine.Serializer.Deserialize<DateTimeOffset?>(json, $"The deadline of the wait for {What}");

        protected override string InputJson() => Execution._engine.Serializer.Serialize(_deadline, $"The deadline of the wait for {What}");

        protected override async Task WaitAsync(JournalEntry entry, CancellationToken token)
        {
            var engine = Execution._engine;
            var events = Execution._events.Writer;
            while (!_completion.Task.IsCompleted)
            {
                var now = engine.Time.GetUtcNow();
                if (_deadline is { } due && now >= due)
                {
                    events.TryWrite(new OperationFinished(this, entry with { State = JournalEntryState.Completed, OutputJson = null }));
                    return;
                }

                var pause = _deadline is { } until && until - now < engine.PollInterval ? until - now : engine.PollInterval;
                await System.Threading.Tasks.Task.Delay(pause, engine.Time, token).ConfigureAwait(false);
                events.TryWrite(Event.SignalsPosted);
            }
        }

        public override void Deliver(JournalEntry terminal)
            => _completion.SetResult(terminal.OutputJson is null
                ? SignalResult<T>.TimedOut
                : SignalResult<T>.Received(Execution._engine.Serializer.Deserialize<T>(terminal.OutputJson, $"The payload of {What}")));
    }

    private abstract record Event
    {
        public static readonly Event WorkPosted = new Posted();
        public static readonly Event LeaseLost = new LostLease();
        public static readonly Event SignalsPosted = new SignalsMayHaveArrived();
        public static readonly Event StepEnded = new Posted();
    }

    private sealed record SignalsMayHaveArrived : Event;

    private sealed record WaitReady(WaitOperation Operation) : Event;

    /// <summary>A step starts (<paramref name="Until"/> set) or ends (null) waiting out a journaled backoff.</summary>
    private sealed record BackoffChanged(Operation Step, long Sequence, DateTimeOffset? Until) : Event;

    private sealed record Posted : Event;

    private sealed record LostLease : Event;

    /// <summary>An operation's outcome, to journal and deliver; a transactional step's comes with its open transaction.</summary>
    private sealed record OperationFinished(Operation Operation, JournalEntry Entry, StepTransaction? Transaction = null) : Event;

    /// <summary>An operation's live part threw: the execution stops with the exception.</summary>
    private sealed record BackgroundFailed(Exception Exception) : Event;

    private sealed record Fatal(Exception Exception, WorkflowStatus Status);
}
