using Durably.Infrastructure;
using Durably.Runtime.Journal;
using Durably.Runtime.Policies;
using Durably.Runtime.Replay;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime.Compensation;

/// <summary>
/// One step call's compensation, run with the step row's static types through the engine's attempt loop: attempts
/// journaled on the compensation's row — written straight to the store, since the run method never sees them — each in
/// its own DI scope with a fresh workflow object, retried with a journaled backoff.
/// </summary>
internal sealed class CompensationAttempts<TStepWorkflow, TStepInput, TStepOutput>(
    IOperationHost host, StepDefinition<TStepWorkflow, TStepInput, TStepOutput> definition, JournalEntry step, JournalEntry? recorded)
    : IAttemptedOperation
    where TStepWorkflow : class
{
    private readonly StepCompensation<TStepWorkflow, TStepInput, TStepOutput> _compensation = definition.TypedCompensation!;
    private JournalEntry? _draft;
    private TStepInput _input = default!;
    private TStepOutput _result = default!;
    private RollbackResult _outcome;

    private RetryPolicy Policy => host.Engine.CompensationRetryPolicy;

    private string What => $"compensation '{_compensation.Name}' of step '{definition.Id}' (sequence {step.Sequence}) of {host.RunName}";

    /// <summary>Runs the compensation until it completes, fails for good (the run is then parked) or the lease is lost.</summary>
    public async Task<RollbackResult> RunAsync(CancellationToken cancellationToken)
    {
        var engine = host.Engine;
        if (_compensation.NeedsResult && step.State != JournalEntryState.Completed)
        {
            return Failed($"The {What} takes the step's result, but the step's outcome is unknown (its attempt timed out or was interrupted), so it cannot be undone automatically.");
        }

        try
        {
            _input = engine.Serializer.Deserialize<TStepInput>(step.InputJson ?? "null", $"The arguments of step '{definition.Id}' (sequence {step.Sequence})");
            _result = _compensation.NeedsResult ? engine.Serializer.Deserialize<TStepOutput>(step.OutputJson ?? "null", $"The result of step '{definition.Id}' (sequence {step.Sequence})") : default!;
        }
        catch (PayloadException ex)
        {
            return Failed($"The {What} cannot run: {ex.Message}");
        }

        _draft = JournalEntry.Attempting(host.WorkflowId, JournalEntry.CompensationSequenceOf(step.Sequence), definition.Id, OperationKind.Compensation,
            step.InputJson, recorded?.StartedAt ?? engine.UtcNow());
        var retryAt = recorded is { State: JournalEntryState.Attempting } ? recorded.RetryAt : null;
        await JournaledAttempts.RunAsync(this, Policy, retryAt, engine, cancellationToken).ConfigureAwait(false);
        return _outcome;
    }

    public bool MayRetry => true;

    public async Task<bool> ReadyForAttemptAsync(DateTimeOffset? retryAt, CancellationToken token)
    {
        if (retryAt is { } due)
        {
            await Replay.Operations.Operation.DelayUntilAsync(due, host.Engine, token).ConfigureAwait(false);
        }

        return true;
    }

    public async Task<AttemptOutcome> AttemptAsync(CancellationToken token)
    {
        var engine = host.Engine;
        // A compensation is how a cancelled run is rolled back: the store records its attempt despite the cancel.
        var attempt = await engine.Store.RecordAttemptAsync(host.Lease, _draft!, JournalDurability.Durable, token).ConfigureAwait(false);
        if (attempt.Fenced)
        {
            _outcome = new RollbackResult(Fenced: true, null);
            return AttemptOutcome.None;
        }

        var entry = attempt.Entry!;
        if (entry.IsTerminal)
        {
            _outcome = entry.State == JournalEntryState.Completed ? RollbackResult.Done : FailedAfterRetries(entry.Error);
            return AttemptOutcome.None;
        }

        await using var scope = engine.Services.CreateAsyncScope();
        StepContext.SetCurrent(new StepContext(host.WorkflowId, definition.Id, step.Sequence, entry.Attempts, scope.ServiceProvider, token, isCompensation: true));
        try
        {
            var workflow = ActivatorUtilities.GetServiceOrCreateInstance<TStepWorkflow>(scope.ServiceProvider);
            await _compensation.Invoke(workflow, _input, _result, token).ConfigureAwait(false);
            return new(JournaledAttempts.Completed(entry, null), null);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            return new(JournaledAttempts.Failed(entry, ex), ex);
        }
        finally
        {
            StepContext.SetCurrent(null);
        }
    }

    public async Task EndAsync(AttemptOutcome outcome, CancellationToken token)
    {
        var terminal = outcome.Terminal! with { CompletedAt = host.Engine.UtcNow() };
        var written = await host.Engine.Store.CompleteEntryAsync(host.Lease, terminal, token).ConfigureAwait(false);
        _outcome = written.Fenced ? new RollbackResult(Fenced: true, null)
            : outcome.Failure is null ? RollbackResult.Done
            : FailedAfterRetries(terminal.Error);
    }

    public async Task<bool> JournalRetryAsync(JournalEntry row, Exception failure, CancellationToken token)
    {
        var scheduled = await host.Engine.Store.ScheduleRetryAsync(host.Lease, row, token).ConfigureAwait(false);
        if (scheduled.Fenced)
        {
            _outcome = new RollbackResult(Fenced: true, null);
            return false;
        }

        return true;
    }

    private RollbackResult FailedAfterRetries(WorkflowError? error)
        => Failed($"The {What} failed after {Policy.MaxAttempts} attempt(s) at most: {error}. The run is parked for an operator.");

    private RollbackResult Failed(string message) => new(Fenced: false, new CompensationFailedException(message, definition.Id, step.Sequence));
}
