using Durably.Runtime.Journal;

namespace Durably.Runtime.Replay;

/// <summary>How a run ends: its outcome from the run method (or a cancel), continue-as-new, and the fenced final write.</summary>
internal sealed partial class RunExecution<TWorkflow, TInput, TOutput>
{
    /// <summary>
    /// The run method ended. Returns the execution's result when the run ends here, or null when it starts rolling back
    /// (it failed under the compensate rule).
    /// </summary>
    private async Task<ExecutionResult?> RunMethodEndedAsync(Task<TOutput> run, CancellationToken cancellationToken)
    {
        var outcome = RunMethodOutcome(run);
        if (outcome.Status != WorkflowStatus.Failed || !run.IsFaulted)
        {
            return await FinishAsync(outcome, cancellationToken).ConfigureAwait(false);
        }

        if (FailureRuleFor(run.Exception!.InnerException!) == FailureRule.Park)
        {
            return await FinishAsync(outcome with { Status = WorkflowStatus.DeadLettered }, cancellationToken).ConfigureAwait(false);
        }

        if (!_compensator.HasCompensations)
        {
            return await FinishAsync(outcome, cancellationToken).ConfigureAwait(false);
        }

        await BeginRollbackAsync(outcome, cancelBodies: false).ConfigureAwait(false);
        return null;
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
                return new RunOutcome(WorkflowStatus.Failed, null, WorkflowErrors.ToError(ex));
            }
        }

        var exception = run.Exception?.InnerException ?? new OperationCanceledException($"The run method of {RunName} was cancelled.");
        return exception is ContinueAsNewException continuation
            ? ContinueAsNew(continuation)
            : new RunOutcome(WorkflowStatus.Failed, null, WorkflowErrors.ToError(exception), FailedSequence: (exception as StepFailedException)?.Sequence);
    }

    /// <summary>The run ends and a fresh run of the same workflow starts with the carried-forward input.</summary>
    private RunOutcome ContinueAsNew(ContinueAsNewException continuation)
    {
        if (continuation.Input is not TInput && !(continuation.Input is null && default(TInput) is null))
        {
            return new RunOutcome(WorkflowStatus.Failed, null, WorkflowErrors.ToError(new ArgumentException(
                $"The run method of {RunName} continued as new with a {continuation.InputType.FullName} input, but the workflow's input is {typeof(TInput).FullName}.")));
        }

        string inputJson;
        try
        {
            inputJson = _engine.Serializer.Serialize((TInput)continuation.Input!, $"The input {RunName} continues as new with");
        }
        catch (PayloadException ex)
        {
            return new RunOutcome(WorkflowStatus.Failed, null, WorkflowErrors.ToError(ex));
        }

        var run = _snapshot.Run;
        var next = RunRecord.Started(RunRecord.ContinuationId(run.WorkflowId, run.Generation), _definition.Name, _definition.Version, inputJson, _engine.UtcNow(),
            run.Generation + 1, run.InstanceKey, _definition.Fingerprint);
        return new RunOutcome(WorkflowStatus.ContinuedAsNew, null, null, next);
    }

    private async Task<ExecutionResult> FinishAsync(RunOutcome outcome, CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (outcome.Continuation is { } next && await _engine.Store.GetRunAsync(next.WorkflowId, cancellationToken).ConfigureAwait(false) is { } taken)
        {
            outcome = new RunOutcome(WorkflowStatus.Failed, null, WorkflowErrors.ToError(new InvalidOperationException(
                $"The run method of {RunName} continued as new, but the id of the next run, '{next.WorkflowId}', is already used by a run of '{taken.WorkflowName}'.")));
        }

        await AttemptsSentAsync().ConfigureAwait(false);
        if (outcome.Status == WorkflowStatus.Failed)
        {
            await CancelRunningChildrenAsync(cancellationToken).ConfigureAwait(false);
        }

        // A run whose row is still unsent (see EarlyStart) is created already ended: its end is its only write.
        if (_earlyStart is { } start && await start.TryEndAsync(outcome).ConfigureAwait(false) is { } created)
        {
            if (!created)
            {
                // Its id was already used: nothing of this run is written.
                return Stopped(ExecutionOutcome.Abandoned);
            }
        }
        else if (_earlyStart is not null && !await _earlyStart.WrittenAsync().ConfigureAwait(false))
        {
            return Stopped(ExecutionOutcome.Abandoned);
        }
        else if (!await _engine.Store.CompleteRunAsync(_lease, outcome, cancellationToken).ConfigureAwait(false))
        {
            return Stopped(ExecutionOutcome.Fenced);
        }

        _engine.Telemetry.RunFinished(_definition.Name, _definition.Version, WorkflowId, outcome.Status, outcome.Error, FailedStepOf(outcome.FailedSequence), outcome.FailedSequence);
        _engine.NotifyFinished(WorkflowId, outcome);
        // After the hand-over: a start still waiting for this end to be durable finds the outcome handed to it.
        _earlyStart?.Satisfied();
        if (outcome.Continuation is not null)
        {
            _engine.RunsAvailable.Set();
        }

        return new ExecutionResult(WorkflowId, ExecutionOutcome.Finished, outcome.Status, outcome.Error);
    }

    /// <summary>
    /// A run that fails for good leaves no child working for it: each child still running (and theirs) is asked to
    /// cancel, unless it was started to be abandoned. Done before the end is written, so a crash in between repeats it
    /// (a cancel asked twice changes nothing). A dead letter's children go on: a retry may still await them.
    /// </summary>
    private async Task CancelRunningChildrenAsync(CancellationToken cancellationToken)
    {
        if (_engine.Store is not IWorkflowStoreChildren family)
        {
            return;
        }

        foreach (var link in await family.ListChildrenAsync(WorkflowId, cancellationToken).ConfigureAwait(false))
        {
            if (!link.AbandonOnParentCancel && await _engine.Store.GetRunAsync(link.ChildId, cancellationToken).ConfigureAwait(false) is { Status: WorkflowStatus.Running })
            {
                await _engine.Store.RequestCancelAsync(link.ChildId, ChildLink.FailedParentReasonOf(WorkflowId), cancellationToken).ConfigureAwait(false);
                _engine.NotifySignalled(link.ChildId);
            }
        }
    }

    /// <summary>The step at <paramref name="sequence"/>, or whose compensation is there.</summary>
    private string? FailedStepOf(long? sequence)
        => sequence is { } at ? _cursor.Recorded(JournalEntry.StepSequenceOf(at))?.OperationId : null;

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
}
