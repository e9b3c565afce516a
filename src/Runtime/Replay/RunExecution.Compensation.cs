using Durably.Infrastructure;
using Durably.Runtime.Engine;
using Durably.Runtime.Journal;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime.Replay;

/// <summary>
/// The rollback of a run (DESIGN §3): when the run method fails under <see cref="FailureRule.Compensate"/>, or the run is
/// cancelled, the attempts in flight settle first — no new attempt starts, backoffs end, and a cancelled run's bodies
/// see their token fire — and their outcomes are journaled; then the compensations of the steps that completed (or whose
/// outcome is unknown) run one at a time in reverse completion order, each journaled at its own sequence
/// (<c>-(step sequence + 1)</c>) and retried by <see cref="EngineContext.CompensationRetryPolicy"/>. A compensation
/// that completed is never run again, so a rollback interrupted by a crash resumes where it stopped.
/// </summary>
internal sealed partial class RunExecution<TWorkflow, TInput, TOutput>
{
    private volatile RunOutcome? _settledOutcome;

    private bool HasCompensations => _definition.Steps.Any(s => s.Compensation is not null);

    /// <summary>The journal sequence of the compensation of the step call at <paramref name="stepSequence"/>.</summary>
    internal static long CompensationSequence(long stepSequence) => -(stepSequence + 1);

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
            && _journal.TryGetValue(failed.Sequence, out var row)
            && _definition.Steps.FirstOrDefault(s => s.Id == row.OperationId) is { } step
            && row.Attempts >= _engine.PoliciesFor(step).Retry.MaxAttempts)
        {
            return FailureRule.Park;
        }

        return FailureRule.Compensate;
    }

    /// <summary>Starts the rollback: the run is to end with <paramref name="outcome"/> once compensated.</summary>
    private async Task BeginSettlingAsync(RunOutcome outcome, bool cancelBodies)
    {
        _settledOutcome = outcome;
        await _settle.CancelAsync().ConfigureAwait(false);
        if (cancelBodies)
        {
            await _cancelBodies.CancelAsync().ConfigureAwait(false);
        }

        _events.Writer.TryWrite(Event.WorkPosted);
    }

    /// <summary>Whether a step attempt is still running, or its outcome still queued for the journal.</summary>
    private bool StepsInFlight()
        => _events.Reader.TryPeek(out _) || _pending.Values.Any(o => o is not WaitOperation && !o.Running.IsCompleted);

    /// <summary>Compensates what the journal says was done, then ends the run with <paramref name="outcome"/>, or parks it if a compensation fails.</summary>
    private async Task<ExecutionResult> CompensateAndFinishAsync(RunOutcome outcome, CancellationToken cancellationToken)
    {
        if (!HasCompensations)
        {
            return await FinishAsync(outcome, cancellationToken).ConfigureAwait(false);
        }

        await _stepCancellation.CancelAsync().ConfigureAwait(false);
        var snapshot = await _engine.Store.LoadAsync(WorkflowId, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"The journal of {RunName} disappeared during its rollback.");
        var rows = snapshot.Journal.ToDictionary(e => e.Sequence);
        var steps = _definition.Steps.Where(s => s.Compensation is not null).ToDictionary(s => s.Id, StringComparer.Ordinal);
        var todo = snapshot.Journal
            .Where(e => e.Kind == OperationKind.Step && steps.ContainsKey(e.OperationId) && (e.State == JournalEntryState.Completed || IsOutcomeUnknown(e)))
            .OrderByDescending(e => e.CompletionIndex ?? long.MaxValue)
            .ThenByDescending(e => e.Sequence);
        foreach (var row in todo)
        {
            var compensated = rows.GetValueOrDefault(CompensationSequence(row.Sequence));
            if (compensated is { State: JournalEntryState.Completed })
            {
                continue;
            }

            var result = await steps[row.OperationId].Accept(new Compensator(this, row, compensated, cancellationToken)).ConfigureAwait(false);
            switch (result)
            {
                case null:
                    continue;
                case CompensationFailedException failed:
                    return await FinishAsync(new RunOutcome(WorkflowStatus.DeadLettered, null, ToError(failed), FailedSequence: CompensationSequence(failed.Sequence)), cancellationToken).ConfigureAwait(false);
                default:
                    return Stopped(ExecutionOutcome.Fenced);
            }
        }

        return await FinishAsync(outcome, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Whether the step call's outcome is unknown, so it is compensated though not known to have completed: an attempt
    /// started and never recorded (interrupted by a crash or a stop), or the last attempt timed out.
    /// </summary>
    private static bool IsOutcomeUnknown(JournalEntry row)
        => (row.State == JournalEntryState.Attempting && row.RetryAt is null)
            || row.Error?.Type == typeof(StepTimeoutException).FullName;

    /// <summary>Thrown out of a compensation when the lease was lost: the execution stops without writing more.</summary>
    private sealed class LeaseLostDuringRollback() : Exception("The lease was lost during the rollback.");

    /// <summary>
    /// Runs one step call's compensation with the step row's static types: attempts journaled on the compensation's row,
    /// each in its own DI scope with a fresh workflow object, retried with a journaled backoff. Returns null when it
    /// completed, a <see cref="CompensationFailedException"/> when it cannot undo the step, or another exception when the
    /// lease was lost.
    /// </summary>
    private sealed class Compensator(RunExecution<TWorkflow, TInput, TOutput> execution, JournalEntry step, JournalEntry? recorded, CancellationToken cancellationToken)
        : IStepDefinitionVisitor<Task<Exception?>>
    {
        public Task<Exception?> Visit<TStepWorkflow, TStepInput, TStepOutput>(StepDefinition<TStepWorkflow, TStepInput, TStepOutput> definition)
            where TStepWorkflow : class
            => RunAsync(definition);

        private async Task<Exception?> RunAsync<TStepWorkflow, TStepInput, TStepOutput>(StepDefinition<TStepWorkflow, TStepInput, TStepOutput> definition)
            where TStepWorkflow : class
        {
            var engine = execution._engine;
            var compensation = definition.TypedCompensation!;
            var what = $"compensation '{compensation.Name}' of step '{definition.Id}' (sequence {step.Sequence}) of {execution.RunName}";
            if (compensation.NeedsResult && step.State != JournalEntryState.Completed)
            {
                return new CompensationFailedException(
                    $"The {what} takes the step's result, but the step's outcome is unknown (its attempt timed out or was interrupted), so it cannot be undone automatically.",
                    definition.Id, step.Sequence);
            }

            TStepInput input;
            TStepOutput result;
            try
            {
                input = engine.Serializer.Deserialize<TStepInput>(step.InputJson ?? "null", $"The arguments of step '{definition.Id}' (sequence {step.Sequence})");
                result = compensation.NeedsResult ? engine.Serializer.Deserialize<TStepOutput>(step.OutputJson ?? "null", $"The result of step '{definition.Id}' (sequence {step.Sequence})") : default!;
            }
            catch (PayloadException ex)
            {
                return new CompensationFailedException($"The {what} cannot run: {ex.Message}", definition.Id, step.Sequence);
            }

            var policy = engine.CompensationRetryPolicy;
            var sequence = CompensationSequence(step.Sequence);
            var draft = new JournalEntry(execution.WorkflowId, sequence, definition.Id, OperationKind.Compensation, JournalEntryState.Attempting,
                step.InputJson, null, null, 0, null, recorded?.StartedAt ?? engine.UtcNow(), null);
            var retryAt = recorded is { State: JournalEntryState.Attempting } ? recorded.RetryAt : null;
            while (true)
            {
                if (retryAt is { } due)
                {
                    await DelayUntilAsync(due, engine.Time, cancellationToken).ConfigureAwait(false);
                }

                var attempt = await engine.Store.RecordAttemptAsync(execution._lease, draft, cancellationToken).ConfigureAwait(false);
                if (attempt.Fenced)
                {
                    return new LeaseLostDuringRollback();
                }

                var entry = attempt.Entry!;
                if (entry.IsTerminal)
                {
                    return entry.State == JournalEntryState.Completed ? null : Failed(entry.Error);
                }

                Exception? failure = null;
                await using (var scope = engine.Services.CreateAsyncScope())
                {
                    StepContext.SetCurrent(new StepContext(execution.WorkflowId, definition.Id, step.Sequence, entry.Attempts, scope.ServiceProvider, cancellationToken, isCompensation: true));
                    try
                    {
                        var workflow = ActivatorUtilities.GetServiceOrCreateInstance<TStepWorkflow>(scope.ServiceProvider);
                        await compensation.Invoke(workflow, input, result, cancellationToken).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                    {
                        throw;
                    }
                    catch (Exception ex)
                    {
                        failure = ex;
                    }
                    finally
                    {
                        StepContext.SetCurrent(null);
                    }
                }

                if (failure is null || entry.Attempts >= policy.MaxAttempts || !policy.IsRetryable(failure))
                {
                    var terminal = entry with
                    {
                        State = failure is null ? JournalEntryState.Completed : JournalEntryState.Failed,
                        Error = failure is null ? null : ToError(failure),
                        CompletedAt = engine.UtcNow(),
                        RetryAt = null,
                    };
                    var written = await engine.Store.CompleteEntryAsync(execution._lease, terminal, cancellationToken).ConfigureAwait(false);
                    if (written.Fenced)
                    {
                        return new LeaseLostDuringRollback();
                    }

                    return failure is null ? null : Failed(terminal.Error);
                }

                var next = engine.RetryTime(policy, entry.Attempts);
                var scheduled = await engine.Store.ScheduleRetryAsync(execution._lease, entry with { Error = ToError(failure), RetryAt = next }, cancellationToken).ConfigureAwait(false);
                if (scheduled.Fenced)
                {
                    return new LeaseLostDuringRollback();
                }

                retryAt = next;
            }

            CompensationFailedException Failed(WorkflowError? error)
                => new($"The {what} failed after {policy.MaxAttempts} attempt(s) at most: {error}. The run is parked for an operator.", definition.Id, step.Sequence);
        }
    }
}
