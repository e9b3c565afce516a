using Durably.Infrastructure;
using Durably.Runtime.Engine;
using Durably.Runtime.Journal;
using Durably.Runtime.Observability;
using Durably.Runtime.Policies;
using Microsoft.Extensions.DependencyInjection;
using Polly.Timeout;

namespace Durably.Runtime.Replay.Operations;

/// <summary>
/// A step call: each attempt is journaled before its body runs; a failed attempt is retried by the step's policy —
/// its error and the next attempt's time journaled first, so a restart neither loses nor shortens the backoff, and a
/// long backoff lets the run unload like any wait — until it succeeds or the policy gives up. The terminal row goes to
/// the event loop, which journals it in delivery order.
/// </summary>
internal sealed class StepOperation<TStepWorkflow, TStepInput, TStepOutput>(
    IOperationHost host, long sequence, TStepWorkflow workflow, StepDefinition<TStepWorkflow, TStepInput, TStepOutput> step, TStepInput input)
    : Operation(host, sequence), IAttemptedOperation
    where TStepWorkflow : class
{
    // Continuations run synchronously where the result is set: the engine sets it outside the scheduler, so
    // awaits in the run method post back to the scheduler in a deterministic order.
    private readonly TaskCompletionSource<TStepOutput> _completion = new();
    private StepPolicies? _policies;
    private JournalEntry? _draft;
    private DateTimeOffset? _retryAt;
    private JournalEntry? _failed;

    // The attempts the stored row counts, as far as this execution knows (what a pipelined attempt numbers itself from).
    private int _attempts;

    public Task<TStepOutput> Task => _completion.Task;

    private string What => $"step '{step.Id}' (sequence {Sequence}) of {Host.RunName}";

    /// <summary>
    /// A step without a compensation (and not transactional) does not need its attempting row on disk before its body
    /// runs: lost to a power cut, the step simply runs again as a first attempt under the same idempotency key, which
    /// at-least-once already allows. A compensable step keeps it durable, so a body that may have run is never forgotten
    /// by a rollback.
    /// </summary>
    public override JournalDurability AttemptDurability
        => step.Compensation is null && !step.Transactional ? JournalDurability.Deferred : JournalDurability.Durable;

    public override void Prepare(JournalEntry? recorded)
    {
        var inputJson = recorded?.InputJson ?? Host.Engine.Serializer.Serialize(input, $"The arguments of {What}");
        _draft = JournalEntry.Attempting(Host.WorkflowId, Sequence, step.Id, OperationKind.Step, inputJson, recorded?.StartedAt ?? Host.Engine.UtcNow());
        _retryAt = recorded is { State: JournalEntryState.Attempting } ? recorded.RetryAt : null;
        _failed = _retryAt is null ? null : _draft with { State = JournalEntryState.Failed, Error = recorded!.Error };
        _attempts = recorded?.Attempts ?? 0;
    }

    /// <summary>Runs the attempts in the background; the loop is told when they end, so a rollback knows when they settled.</summary>
    public override void Start() => Running = RunInBackground(async () =>
    {
        var token = Host.Stopping;
        try
        {
            _policies = Host.Engine.PoliciesFor(step);
        }
        catch (ArgumentException ex)
        {
            Host.SetFatal(ex, WorkflowStatus.Failed);
            Host.Post(ExecutionEvent.StepEnded);
            return;
        }

        try
        {
            await JournaledAttempts.RunAsync(this, _policies.Retry, _retryAt, Host.Engine, token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // The execution stopped: an attempt in flight has an unknown outcome and nothing is recorded for it.
        }
        finally
        {
            Host.Post(ExecutionEvent.StepEnded);
        }
    });

    public bool MayRetry => !Host.IsRollingBack;

    public async Task<bool> ReadyForAttemptAsync(DateTimeOffset? retryAt, CancellationToken token)
    {
        if (retryAt is { } due)
        {
            Host.Post(new BackoffChanged(this, Sequence, due));
            using var backoff = CancellationTokenSource.CreateLinkedTokenSource(token, Host.Settling);
            try
            {
                await DelayUntilAsync(due, Host.Engine, backoff.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!token.IsCancellationRequested)
            {
                // The run started rolling back: the backoff ends here.
            }

            Host.Post(new BackoffChanged(this, Sequence, null));
        }

        if (Host.IsRollingBack)
        {
            // Rolling back: no further attempt; a failed one waiting for its retry ends as failed.
            if (_failed is { } failed)
            {
                Host.Post(new OperationFinished(this, failed));
            }

            return false;
        }

        return true;
    }

    /// <summary>The attempt is journaled inside the breaker: an open breaker holds it back without using up an attempt.</summary>
    public Task<AttemptOutcome> AttemptAsync(CancellationToken token)
    {
        var attempt = _policies!.ExecuteAsync(attemptToken => AttemptOnceAsync(_policies, attemptToken), token);
        return Host.Engine.CrashHook is null ? attempt : ThenCrashSiteAsync(attempt);
    }

    /// <summary>The test kit's crash site after the body: it has returned or thrown, its outcome not journaled yet (the at-least-once window).</summary>
    private async Task<AttemptOutcome> ThenCrashSiteAsync(Task<AttemptOutcome> attempt)
    {
        var outcome = await attempt.ConfigureAwait(false);
        if (outcome.Terminal is not null)
        {
            await Host.Engine.AtCrashSiteAsync(CrashSiteKind.AfterStepBody, Host.WorkflowId, step.Id, Sequence, _attempts).ConfigureAwait(false);
        }

        return outcome;
    }

    public async Task EndAsync(AttemptOutcome outcome, CancellationToken token)
    {
        if (outcome.Transaction is { } transaction && token.IsCancellationRequested)
        {
            // The execution stopped: nobody will commit, so roll back now.
            await transaction.DisposeAsync().ConfigureAwait(false);
            return;
        }

        Host.Post(new OperationFinished(this, outcome.Terminal!, outcome.Transaction, outcome.PendingAttempt));
    }

    public async Task<bool> JournalRetryAsync(JournalEntry row, Exception failure, CancellationToken token)
    {
        var scheduled = await Host.Engine.Store.ScheduleRetryAsync(Host.Lease, row, token).ConfigureAwait(false);
        if (scheduled.Fenced)
        {
            Host.Post(ExecutionEvent.LeaseLost);
            return false;
        }

        if (scheduled.CancelRequested)
        {
            Host.RequestStop();
            return false;
        }

        Host.Engine.Telemetry.StepRetryScheduled(Host.WorkflowName, step.Id, Host.WorkflowId, Sequence, row.Attempts, row.RetryAt!.Value, failure);
        _failed = row with { State = JournalEntryState.Failed, RetryAt = null };
        return true;
    }

    /// <summary>
    /// One attempt: its attempting row journaled, then the body in its own DI scope under the step's timeout. Returns
    /// the terminal row it produced and the exception when it failed, or <see cref="AttemptOutcome.None"/>. A deferred
    /// attempting row (a plain step, after this execution's first live attempt) is sent once the body has started and
    /// yielded, and not waited for: a body that succeeds has its outcome written at once, which supersedes it (the store
    /// never lets an attempting row overwrite an outcome); a body that fails waits for it, so that the retry finds its
    /// row. A body that completes successfully before it yields has no attempting row: its outcome is its one write.
    /// </summary>
    private async Task<AttemptOutcome> AttemptOnceAsync(StepPolicies policies, CancellationToken token)
    {
        Task<JournalWriteResult>? pending = null;
        JournalEntry entry;
        var pipelined = AttemptDurability == JournalDurability.Deferred && Host.MayPipelineAttempts;
        if (pipelined)
        {
            // Sent once the body has started and not finished at once (below): a body that completes before it yields
            // never ran out of the engine's sight, and its outcome — one write — says all the attempting row would.
            entry = _draft! with { Attempts = _attempts + 1 };
        }
        else if (await Host.RecordAttemptAsync(this, _draft!, token).ConfigureAwait(false) is { } recorded)
        {
            entry = recorded;
        }
        else
        {
            return AttemptOutcome.None;
        }

        _attempts = entry.Attempts;
        await Host.Engine.AtCrashSiteAsync(CrashSiteKind.BeforeStepBody, Host.WorkflowId, step.Id, Sequence, _attempts).ConfigureAwait(false);

        var engine = Host.Engine;
        var scope = engine.Services.CreateAsyncScope();
        Task<TStepOutput>? body = null;
        // A cancelled run's rollback cancels the bodies in flight and records how they end.
        using var bodyCancellation = CancellationTokenSource.CreateLinkedTokenSource(token, Host.BodiesCancelled);
        using var activity = EngineTelemetry.StartStepAttempt(Host.Activity, Host.WorkflowName, Host.WorkflowId, step.Id, Sequence, entry.Attempts,
            StepContext.CreateIdempotencyKey(Host.WorkflowId, step.Id, Sequence));
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
                StepContext.SetCurrent(new StepContext(Host.WorkflowId, step.Id, Sequence, entry.Attempts, scope.ServiceProvider, attemptToken) { StoreTransaction = transaction, ProgressSink = Host.Progress });
                body = engine.BodyOf(step)(workflow, input, attemptToken);
                if (pipelined && !body.IsCompletedSuccessfully)
                {
                    pending = SendAttempt();
                }

                // A body that ignores its token is not waited for past the timeout or a stop: its late outcome is discarded.
                return await body.WaitAsync(attemptToken).ConfigureAwait(false);
            }, bodyCancellation.Token).ConfigureAwait(false);
            var completed = new AttemptOutcome(JournaledAttempts.Completed(entry, engine.Serializer.Serialize(result, $"The result of {What}")), null, transaction, pending);
            // The event loop commits the transaction with the journal row, in delivery order.
            transaction = null;
            return completed;
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // A body that was called is in the journal before the execution ends.
            if (pipelined && pending is null && body is not null)
            {
                pending = SendAttempt();
            }

            if (pending is not null)
            {
                // The execution stops with this body's outcome unknown: its attempting row is in the journal before it ends.
                await ((Task)pending).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

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
            // A failure is recorded on its attempting row (its retry updates it): a body that threw as it was called has one now.
            pending ??= pipelined ? SendAttempt() : null;
            if (pending is not null && Host.AcceptAttempt(this, await pending.ConfigureAwait(false)) is null)
            {
                // Fenced, cancelled, or already ended: the loop was told, and this attempt's failure is not recorded.
                return AttemptOutcome.None;
            }

            return new(JournaledAttempts.Failed(entry, failure), failure);
        }
        finally
        {
            Host.Progress.Finished(Sequence);
            if (!token.IsCancellationRequested)
            {
                engine.Telemetry.StepAttemptEnded(Host.WorkflowName, step.Id, engine.Time.GetElapsedTime(started), outcome);
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

    /// <summary>Sends this attempt's attempting row without waiting for it (a pipelined attempt: see <see cref="AttemptOnceAsync"/>).</summary>
    private Task<JournalWriteResult> SendAttempt()
    {
        // Not cancelled with the execution: a stopping execution waits for this row, so it must not give up on it.
        var pending = Host.Engine.Store.RecordAttemptAsync(Host.Lease, _draft!, JournalDurability.Pipelined, CancellationToken.None);
        // Observed here as well, so that an attempt whose outcome is never written leaves no unobserved fault.
        _ = pending.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        Host.TrackAttempt(pending);
        return pending;
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
            _completion.SetException(new StepFailedException(step.Id, Sequence, terminal.Error ?? new WorkflowError("Unknown", "no error was recorded")));
            return;
        }

        var result = Host.Engine.Serializer.Deserialize<TStepOutput>(terminal.OutputJson ?? "null", $"The result of {What}");
        _completion.SetResult(result);
    }
}
