using Durably.Runtime.Journal;
using Durably.Runtime.Replay.Operations;

namespace Durably.Runtime.Replay;

/// <summary>
/// The rollback of a run (DESIGN §3), as the loop sees it: when the run method fails under
/// <see cref="FailureRule.Compensate"/>, or the run is cancelled, the attempts in flight settle first — no new attempt
/// starts, backoffs end, and a cancelled run's bodies see their token fire — and their outcomes are journaled; then the
/// <see cref="Compensation.Compensator"/> undoes what the journal says was done, and the run ends.
/// </summary>
internal sealed partial class RunExecution<TWorkflow, TInput, TOutput>
{
    /// <summary>How the run ends once rolled back; set while it rolls back.</summary>
    private volatile RunOutcome? _rollbackOutcome;

    /// <summary>
    /// The rule for a run method that threw <paramref name="exception"/>: the workflow's, or when
    /// <see cref="FailureRule.Automatic"/>, park a step failure that used up its attempts and compensate the rest.
    /// </summary>
    private FailureRule FailureRuleFor(Exception exception)
    {
        if (_definition.OnFailure != FailureRule.Automatic)
        {
            return _definition.OnFailure;
        }

        if (exception is StepFailedException failed
            && _cursor.Recorded(failed.Sequence) is { } row
            && _definition.Steps.FirstOrDefault(s => s.Id == row.OperationId) is { } step
            && row.Attempts >= _engine.PoliciesFor(step).Retry.MaxAttempts)
        {
            return FailureRule.Park;
        }

        return FailureRule.Compensate;
    }

    /// <summary>Starts the rollback: the run is to end with <paramref name="outcome"/> once compensated.</summary>
    private async Task BeginRollbackAsync(RunOutcome outcome, bool cancelBodies)
    {
        _rollbackOutcome = outcome;
        await _settling.CancelAsync().ConfigureAwait(false);
        if (cancelBodies)
        {
            await _cancelBodies.CancelAsync().ConfigureAwait(false);
        }

        Post(ExecutionEvent.WorkPosted);
    }

    /// <summary>Whether a step attempt is still running, or its outcome still queued for the journal.</summary>
    private bool StepsInFlight()
        => _events.Reader.TryPeek(out _) || _pending.Values.Any(o => o is not WaitOperation && !o.Running.IsCompleted);

    /// <summary>Compensates what the journal says was done, then ends the run with <paramref name="outcome"/>, or parks it if a compensation fails.</summary>
    private async Task<ExecutionResult> CompensateAndFinishAsync(RunOutcome outcome, CancellationToken cancellationToken)
    {
        if (!_compensator.HasCompensations)
        {
            return await FinishAsync(outcome, cancellationToken).ConfigureAwait(false);
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        var snapshot = await _engine.Store.LoadAsync(WorkflowId, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"The journal of {RunName} disappeared during its rollback.");
        var rollback = await _compensator.RunAsync(snapshot.Journal, cancellationToken).ConfigureAwait(false);
        if (rollback.Fenced)
        {
            return Stopped(ExecutionOutcome.Fenced);
        }

        if (rollback.Failed is { } failed)
        {
            return await FinishAsync(new RunOutcome(WorkflowStatus.DeadLettered, null, WorkflowErrors.ToError(failed),
                FailedSequence: JournalEntry.CompensationSequenceOf(failed.Sequence)), cancellationToken).ConfigureAwait(false);
        }

        return await FinishAsync(outcome, cancellationToken).ConfigureAwait(false);
    }
}
