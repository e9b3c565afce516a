using Durably.Infrastructure;
using Durably.Runtime.Engine;
using Durably.Runtime.Journal;
using Durably.Runtime.Replay.Operations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Durably.Runtime.Replay;

/// <summary>What the run method calls (<see cref="Workflow"/> and the generated step interceptors end here).</summary>
internal sealed partial class RunExecution<TWorkflow, TInput, TOutput>
{
    private ILogger? _logger;
    private long _guidCounter;
    private DateTimeOffset _now;
    private Random? _random;
    private ReplayedStatus? _replayedStatus;

    public override DateTimeOffset GetNow(string caller)
    {
        EnsureOnScheduler(caller);
        return _now;
    }

    public override bool IsReplaying(string caller)
    {
        EnsureOnScheduler(caller);
        return _cursor.IsReplaying;
    }

    /// <summary>
    /// While replaying, a status only replaces <see cref="_replayedStatus"/> (the store has it, or gets it when replay
    /// ends); live, it is staged, to be written with the run's next write.
    /// </summary>
    public override void SetStatus<TStatus>(TStatus status, string caller)
    {
        EnsureOnScheduler(caller);
        var json = _engine.StatusSerializer.Serialize(status, $"The status of {RunName} ({caller})");
        json = json == "null" ? null : json;
        if (_cursor.IsReplaying)
        {
            _replayedStatus = new ReplayedStatus(json);
            return;
        }

        _replayedStatus = null;
        StageStatus(json);
    }

    /// <summary>Replay is over: the status the run method set while replaying is staged (the store skips it when it has it).</summary>
    private void StageReplayedStatus()
    {
        if (_replayedStatus is { } replayed)
        {
            _replayedStatus = null;
            StageStatus(replayed.Json);
        }
    }

    private void StageStatus(string? json)
    {
        if (!_engine.ReplayOnly)
        {
            // A staged status is written with the run's next write, which then cannot carry an unsent row: send it now.
            _earlyStart?.Send();
            _engine.StatusStore?.StageStatus(_lease, json);
        }
    }

    private sealed record ReplayedStatus(string? Json);

    public override ILogger GetLogger(string caller)
    {
        EnsureOnScheduler(caller);
        return _logger ??= new ReplaySafeLogger(
            (_engine.Services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance).CreateLogger(typeof(TWorkflow).FullName ?? typeof(TWorkflow).Name),
            () => _cursor.IsReplaying,
            new RunLogScope(WorkflowId, _definition.Name));
    }

    public override Guid NewGuid(string caller)
    {
        EnsureOnScheduler(caller);
        return DeterministicValues.NewGuid(WorkflowId, _snapshot.Run.Seed, _guidCounter++);
    }

    public override Random GetRandom(string caller)
    {
        EnsureOnScheduler(caller);
        return _random ??= new Random(DeterministicValues.Seed(WorkflowId, _snapshot.Run.Seed));
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

        var sequence = _cursor.TakeSequence();
        var operation = new StepOperation<TStepWorkflow, TStepInput, TStepOutput>(this, sequence, workflow, step, input);
        return Schedule(operation, step.Id, OperationKind.Step, $"step '{step.Id}'") is { } failed
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

        var operation = new TimerOperation(this, _cursor.TakeSequence(), wakeAt ?? now + delay, caller);
        return Schedule(operation, TimerOperation.Id, OperationKind.Timer, $"a durable timer ({caller})") is { } error
            ? Task.FromException(error)
            : operation.Task;
    }

    public override Task<SignalResult<T>> WaitForSignalAsync<T>(string name, TimeSpan timeout, string caller)
    {
        EnsureOnScheduler(caller);
        var now = _engine.UtcNow();
        DateTimeOffset? deadline = timeout == Timeout.InfiniteTimeSpan || timeout > DateTimeOffset.MaxValue - now ? null : now + timeout;
        var operation = new SignalWaitOperation<T>(this, _cursor.TakeSequence(), name, deadline);
        return Schedule(operation, name, OperationKind.Signal, $"a wait for signal '{name}' ({caller})") is { } error
            ? Task.FromException<SignalResult<T>>(error)
            : operation.Task;
    }

    public override Task<TChildOutput> RunChildAsync<TChild, TChildInput, TChildOutput>(WorkflowDefinition<TChild, TChildInput, TChildOutput> workflow, TChildInput input, ChildWorkflowOptions options, string caller)
    {
        EnsureOnScheduler(caller);
        ArgumentNullException.ThrowIfNull(workflow);
        ArgumentNullException.ThrowIfNull(options);
        var operation = new ChildOperation<TChild, TChildInput, TChildOutput>(this, _cursor.TakeSequence(), workflow, input, options, caller);
        _compensator.MayHaveChildren = true;
        return Schedule(operation, workflow.Name, OperationKind.Child, $"child workflow '{workflow.Name}' ({caller})") is { } error
            ? Task.FromException<TChildOutput>(error)
            : operation.Task;
    }

    public override bool Patched(string patchId, string caller)
    {
        EnsureOnScheduler(caller);
        switch (_cursor.PatchAt(patchId))
        {
            case PatchState.Marked:
                _cursor.TakeSequence();
                return true;
            case PatchState.PassedWithout:
                // The run passed this point on the old code: it keeps the old branch, and the check takes no sequence.
                return false;
            default:
                RecordPatchMarker(patchId, caller);
                return true;
        }
    }

    public override void DeprecatePatch(string patchId, string caller)
    {
        EnsureOnScheduler(caller);
        switch (_cursor.PatchAt(patchId))
        {
            case PatchState.Marked:
                _cursor.TakeSequence();
                return;
            case PatchState.Live:
                // New runs record nothing: once every marked run has finished, the call can go.
                return;
            default:
                var error = new NonDeterminismException(
                    $"Non-determinism in {RunName}: at sequence {_cursor.NextSequence} the run method calls {caller}, but this run passed that point on the "
                    + $"old branch of patch '{patchId}' (its journal has no marker there), and that branch is gone. Deploy the code with "
                    + $"Workflow.Patched(\"{patchId}\") and its old branch again until no such run is in flight, then deprecate it.",
                    _cursor.NextSequence);
                SetFatal(error, WorkflowStatus.DeadLettered);
                throw error;
        }
    }

    /// <summary>
    /// Journals patch <paramref name="patchId"/>'s marker at the next sequence number, before the run method goes on into
    /// the new branch: a marker written after the branch's first operation could be lost in a crash, and the run would
    /// then replay the old branch against the new one's journal. A store that fails here stops the execution (the run
    /// is kept for the next one) rather than let the run method go on without its marker.
    /// </summary>
    private void RecordPatchMarker(string patchId, string caller)
    {
        var sequence = _cursor.TakeSequence();
        var now = _engine.UtcNow();
        // One write, terminal at once: a kill cannot leave a marker half written.
        var marker = JournalEntry.Attempting(WorkflowId, sequence, patchId, OperationKind.Patch, null, now) with
        {
            State = JournalEntryState.Completed,
            Attempts = 1,
            CompletedAt = now,
        };
        try
        {
            if (_earlyStart is { } start && !start.WrittenAsync().GetAwaiter().GetResult())
            {
                // The run's row was not created (its id was already used): nothing of it may be written; the loop stops.
                return;
            }

            var written = _engine.Store.CompleteEntryAsync(_lease, marker, _stopping.Token).GetAwaiter().GetResult();
            if (written.Fenced)
            {
                Post(ExecutionEvent.LeaseLost);
            }
            else if (written.CancelRequested)
            {
                RequestStop();
            }
            else
            {
                _cursor.Journaled(written.Entry!);
            }
        }
        catch (Exception ex)
        {
            _storeFailure = ex;
            Post(ExecutionEvent.WorkPosted);
            throw new InvalidOperationException($"{caller} in {RunName} could not journal its marker; the execution stops and the run is resumed later.", ex);
        }
    }

    /// <summary>
    /// Checks a durable call against the journal at its sequence number, then answers it from the journal when the row
    /// is terminal there, or starts it (after replay, when its turn comes). Returns the error that fails the call, if any.
    /// </summary>
    private Exception? Schedule(Operation operation, string operationId, OperationKind kind, string called)
    {
        if (_rollbackOutcome is not null)
        {
            // Rolling back: the run method goes no further (its operation never completes).
            return null;
        }

        var sequence = operation.Sequence;
        if (_cursor.Check(sequence, operationId, kind, called) is { } mismatch)
        {
            SetFatal(mismatch, WorkflowStatus.DeadLettered);
            return null;
        }

        var recorded = _cursor.Recorded(sequence);
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

        if (_cursor.ReplayDone)
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
}
