using Durably.Infrastructure;
using Durably.Runtime.Engine;
using Durably.Runtime.Hosting;
using Durably.Runtime.Journal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Durably.Testing;

// Crash and restart: the engine stopped abruptly at a chosen point, and a new one resuming from the journal.
public sealed partial class DurableTestHost
{
    private readonly Lock _crashGate = new();
    private (StepDefinition Step, CrashPoint Point)? _armed;
    private TaskCompletionSource<CrashSite>? _reached;
    private TaskCompletionSource? _held;
    private bool _crashed;

    /// <summary>Whether the engine has crashed (<see cref="CrashAsync"/>) and not been restarted yet.</summary>
    public bool IsCrashed => Volatile.Read(ref _crashed);

    /// <summary>
    /// Arms a crash: the first time a run of this host reaches <paramref name="point"/> of <paramref name="step"/>, the
    /// engine stops there — nothing of that attempt goes further. <see cref="CrashAsync"/> then waits for it and takes the
    /// engine down. Arm before starting the run, so it cannot pass the point first.
    /// </summary>
    /// <param name="step">The step's row of the generated step table.</param>
    /// <param name="point">Where in the step's attempt: by default after its body returned, before its outcome is
    /// journaled — the at-least-once window, where a restart runs the body again with the same idempotency key.</param>
    /// <exception cref="ArgumentNullException"><paramref name="step"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="point"/> is not a <see cref="CrashPoint"/>.</exception>
    /// <exception cref="InvalidOperationException">A crash is armed already, or the engine is crashed.</exception>
    public void CrashAt(StepDefinition step, CrashPoint point = CrashPoint.AfterStepBody)
    {
        ArgumentNullException.ThrowIfNull(step);
        if (!Enum.IsDefined(point))
        {
            throw new ArgumentOutOfRangeException(nameof(point), point, "Not a crash point: use AfterStepBody, BeforeStepBody or AfterStepJournaled.");
        }

        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_crashGate)
        {
            ThrowIfCrashed();
            if (_armed is { } armed)
            {
                throw new InvalidOperationException($"A crash is armed already, at {armed.Point} of step {armed.Step}: crash (CrashAsync) before arming another.");
            }

            _armed = (step, point);
            _reached = new TaskCompletionSource<CrashSite>(TaskCreationOptions.RunContinuationsAsynchronously);
            _held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Engine.CrashHook = AtCrashSite;
        }
    }

    /// <summary>
    /// Crashes the engine: at the point <see cref="CrashAt"/> armed, once a run reaches it (time skips meanwhile, as in
    /// <see cref="WaitForResultAsync{TOutput}"/>), or at once when none is armed. As with a killed process, the engine writes
    /// nothing more: its worker stops claiming, its executions stop, and the runs it held are taken from it in the store
    /// (their lease taken again), so anything it still tries to journal is refused. <see cref="RestartAsync"/> resumes.
    /// </summary>
    /// <param name="timeout">How long to wait for the armed point; the host's default when null.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>A task that completes when the engine is down.</returns>
    /// <exception cref="TimeoutException">No run reached the armed point in time; the message names the point and the step.</exception>
    /// <exception cref="InvalidOperationException">The engine is crashed already.</exception>
    public async Task CrashAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var limit = timeout ?? _options.DefaultTimeout;
        DurableTestHostOptions.CheckTimeout(limit, nameof(timeout));
        Task<CrashSite>? reached;
        lock (_crashGate)
        {
            ThrowIfCrashed();
            reached = _reached?.Task;
        }

        if (reached is not null)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(limit);
            using var skipping = AutoSkipTime ? Skipper.Skip(() => reached.IsCompleted) : null;
            try
            {
                await reached.WaitAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                var (step, point) = _armed!.Value;
                throw new TimeoutException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"No run reached {point} of step {step} within {limit.TotalSeconds:0.###} s: is the run started, and does it call the step?"));
            }
        }

        await TakeDownAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Starts a new engine and worker on the same store, clock, substitutes and history, as a process starting again:
    /// runs go on from their journals — a step whose outcome was not journaled runs again, under the same idempotency key.
    /// Without a crash before, the running engine is first stopped as an application stops. Services the test registered
    /// by type are created anew, as in a new process; register instances to keep them (fakes of external systems).
    /// </summary>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>A task that completes when the new worker has started.</returns>
    public async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!IsCrashed)
        {
            await _current.StopAsync().ConfigureAwait(false);
        }

        // The substitutes are in place before the new worker claims anything.
        Action<EngineContext>[] installs;
        lock (_substitutes)
        {
            installs = [.. _installs];
        }

        var next = await HostedEngine.StartAsync(_setup, engine => Array.ForEach(installs, install => install(engine)), cancellationToken).ConfigureAwait(false);
        lock (_substitutes)
        {
            _stopped.Add(_current);
            _current = next;
        }

        lock (_crashGate)
        {
            (_armed, _reached, _held) = (null, null, null);
            Volatile.Write(ref _crashed, false);
        }
    }

    private Task AtCrashSite(CrashSite site)
    {
        lock (_crashGate)
        {
            if (_armed is not { } armed || _reached is null || _held is null || armed.Step.Id != site.StepId || (int)armed.Point != (int)site.Kind
                || !_reached.TrySetResult(site))
            {
                return Task.CompletedTask;
            }

            // The engine stops here: this attempt goes no further until the runs are taken from it (then it is refused).
            return _held.Task;
        }
    }

    /// <summary>The engine goes down: no more claims, executions stopped, and its runs fenced off in the store.</summary>
    private async Task TakeDownAsync(CancellationToken cancellationToken)
    {
        var engine = _current;
        lock (_crashGate)
        {
            Volatile.Write(ref _crashed, true);
        }

        var worker = engine.Services.GetServices<IHostedService>().OfType<DurableWorker>().Single();
        await engine.AbandonAsync().ConfigureAwait(false);
        await worker.LoopEnded.ConfigureAwait(false);

        // Every run the worker held gets a new lease epoch: whatever the crashed engine still tries to journal is refused,
        // as a store refuses a worker whose lease was taken. The next worker of the same name claims them again at once.
        var store = engine.Context.Store;
        (DateTimeOffset, string)? after = null;
        while (true)
        {
            var page = await store.ListRunsAsync(new RunListQuery(null, WorkflowStatus.Running, null, null, after, 200), cancellationToken).ConfigureAwait(false);
            foreach (var run in page.Where(r => r.Owner == _options.WorkerName))
            {
                await store.TryClaimAsync(run.WorkflowId, _options.WorkerName, engine.Context.LeaseDuration, cancellationToken).ConfigureAwait(false);
            }

            if (page.Count < 200)
            {
                break;
            }

            after = (page[^1].CreatedAt, page[^1].WorkflowId);
        }

        // Now fenced: what was held at the crash point, and every execution in flight, stops and finds its writes refused.
        await worker.AbandonAsync().ConfigureAwait(false);
        _held?.TrySetCanceled(CancellationToken.None);
    }

    private void ThrowIfCrashed()
    {
        if (_crashed)
        {
            throw new InvalidOperationException("The host's engine is crashed: call RestartAsync to start it again.");
        }
    }
}

/// <summary>Where <see cref="DurableTestHost.CrashAt"/> stops the engine in a step's attempt.</summary>
public enum CrashPoint
{
    /// <summary>The attempt is about to run the step's body: after a restart the body runs (once, for this attempt).</summary>
    BeforeStepBody = 0,

    /// <summary>
    /// The body has returned (or thrown) and its outcome is not journaled yet — the at-least-once window: after a restart
    /// the body runs again, with the same idempotency key.
    /// </summary>
    AfterStepBody = 1,

    /// <summary>The outcome is journaled, not yet delivered to the run method: after a restart the body does not run again.</summary>
    AfterStepJournaled = 2,
}
