using System.Collections.Concurrent;
using Durably.Runtime.Journal;
using Durably.Runtime.Policies;

namespace Durably.Runtime.Engine;

/// <summary>What every run execution of one engine shares: the store, the clock, the services and the validated options.</summary>
/// <param name="store">Where runs and journals live.</param>
/// <param name="options">The engine's settings, validated.</param>
/// <param name="services">Creates workflow instances and a scope per step attempt.</param>
/// <param name="time">The clock.</param>
internal sealed partial class EngineContext(IWorkflowStore store, DurableOptions options, IServiceProvider services, TimeProvider time)
{
    private readonly ConcurrentDictionary<Durably.Infrastructure.StepDefinition, StepPolicies> _stepPolicies = new();
    private readonly ConcurrentDictionary<string, CircuitBreaker> _breakers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CircuitBreakerPolicy> _breakerPolicies = new(options.CircuitBreakers, StringComparer.Ordinal);
    private readonly CircuitBreakerPolicy _defaultBreakerPolicy = options.DefaultCircuitBreakerPolicy;

    // Replaced whole when a test adds a body (rare); read without a lock on every attempt, null when there is none.
    private volatile Dictionary<Durably.Infrastructure.StepDefinition, Delegate>? _bodies;
    private readonly Lock _bodiesGate = new();
    private readonly Dictionary<string, FinishWait> _finished = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Action> _signalled = new(StringComparer.Ordinal);

    public IWorkflowStore Store { get; } = store;

    /// <summary>The store, when it can run a step attempt in a transaction of its own database; null otherwise.</summary>
    public ITransactionalStepStore? TransactionalStore { get; } = store as ITransactionalStepStore;

    /// <summary>Traces, metrics, the engine's log and alerts.</summary>
    public Observability.EngineTelemetry Telemetry { get; } = new(services, options.WorkerName, time, options.AlertTimeout);

    public PayloadSerializer Serializer { get; } = new(options.SerializerOptions, options.MaxPayloadBytes);

    /// <summary>Serialises run statuses (<see cref="Workflow.SetStatus{TStatus}"/>), with their own size limit.</summary>
    public PayloadSerializer StatusSerializer { get; } = new(options.SerializerOptions, Workflow.MaxStatusBytes, "Workflow.MaxStatusBytes");

    public TimeProvider Time { get; } = time;

    /// <summary>The workflows this engine runs, for what a run starts (its children); set by the engine once.</summary>
    public WorkflowRegistry Registry { get; set; } = new([]);

    public IServiceProvider Services { get; } = services;

    public TimeSpan LeaseDuration { get; } = options.LeaseDuration;

    /// <summary>Renews the leases of every execution in progress, in one store write per interval.</summary>
    public Replay.LeaseHeartbeat Heartbeat => LazyInitializer.EnsureInitialized(ref _heartbeat, () => new Replay.LeaseHeartbeat(this, options.WorkerName));

    private Replay.LeaseHeartbeat? _heartbeat;

    /// <summary>How often work that cannot be notified is looked for (e.g. signals sent by another process to a SQLite file).</summary>
    public TimeSpan PollInterval { get; } = options.PollInterval;

    /// <summary>A quiescent run whose earliest wait ends later than this from now is unloaded; infinite: never.</summary>
    public TimeSpan UnloadThreshold { get; } = options.UnloadThreshold;

    /// <summary>The shortest time between two progress writes of one run.</summary>
    public TimeSpan ProgressInterval { get; } = options.ProgressInterval;

    /// <summary>Where a failed progress write is logged.</summary>
    public Microsoft.Extensions.Logging.ILogger ProgressLogger { get; } =
        (Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetService<Microsoft.Extensions.Logging.ILoggerFactory>(services)
            ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance).CreateLogger("Durably.Progress");

    /// <summary>Where runs' statuses and steps' progress go, when the store keeps them.</summary>
    public IWorkflowStoreRunStatus? StatusStore { get; } = store as IWorkflowStoreRunStatus;

    /// <summary>How compensations are retried.</summary>
    public RetryPolicy CompensationRetryPolicy { get; } = options.CompensationRetryPolicy;

    /// <summary>The retry policy of steps that set none themselves.</summary>
    public RetryPolicy DefaultRetryPolicy { get; } = options.DefaultRetryPolicy;

    /// <summary>The test kit's crash hook: asked at each crash site; a task that does not end holds the engine there.</summary>
    public Func<CrashSite, Task>? CrashHook { get; set; }

    /// <summary>Passes a crash site (see <see cref="CrashHook"/>): at once, unless the test kit holds the engine here.</summary>
    public Task AtCrashSiteAsync(CrashSiteKind kind, string workflowId, string stepId, long sequence, int attempt)
        => CrashHook is { } hook ? hook(new CrashSite(kind, workflowId, stepId, sequence, attempt)) : Task.CompletedTask;

    /// <summary>
    /// What runs for an attempt of <paramref name="step"/>: its body, unless a test put another in its place
    /// (<see cref="ReplaceBody"/>) — journaled, retried and compensated all the same.
    /// </summary>
    public Func<TWorkflow, TInput, CancellationToken, Task<TOutput>> BodyOf<TWorkflow, TInput, TOutput>(Durably.Infrastructure.StepDefinition<TWorkflow, TInput, TOutput> step)
        where TWorkflow : class
        => _bodies is { } bodies && bodies.TryGetValue(step, out var body) ? (Func<TWorkflow, TInput, CancellationToken, Task<TOutput>>)body : step.Invoke;

    /// <summary>Runs <paramref name="body"/> for <paramref name="step"/>'s attempts in this engine from now on (the test kit's substitutes).</summary>
    public void ReplaceBody<TWorkflow, TInput, TOutput>(Durably.Infrastructure.StepDefinition<TWorkflow, TInput, TOutput> step, Func<TWorkflow, TInput, CancellationToken, Task<TOutput>> body)
        where TWorkflow : class
    {
        lock (_bodiesGate)
        {
            _bodies = new Dictionary<Durably.Infrastructure.StepDefinition, Delegate>(_bodies ?? []) { [step] = body };
        }
    }

    /// <summary>
    /// The policies of <paramref name="step"/>: its attribute's retry settings over the default, its timeout, and the
    /// breaker it names (one per name in this engine); checked once per step.
    /// </summary>
    /// <exception cref="ArgumentException">The step's settings are out of range (the generator reports the constant cases).</exception>
    public StepPolicies PoliciesFor(Durably.Infrastructure.StepDefinition step)
        => _stepPolicies.GetOrAdd(step, static (s, engine) =>
        {
            var retry = s.Retry?.ApplyTo(engine.DefaultRetryPolicy) ?? engine.DefaultRetryPolicy;
            retry.Validate($"step '{s.Id}'");
            StepPolicies.ValidateTimeout(s.Timeout, $"Step '{s.Id}'");
            if (s.CircuitBreaker is { } name && string.IsNullOrWhiteSpace(name))
            {
                throw new ArgumentException($"Step '{s.Id}' has CircuitBreaker = '{name}'; a breaker name must not be empty.", nameof(step));
            }

            var breaker = s.CircuitBreaker is { } breakerName
                ? engine._breakers.GetOrAdd(breakerName, static (n, e) => new CircuitBreaker(n, e._breakerPolicies.GetValueOrDefault(n, e._defaultBreakerPolicy), e), engine)
                : null;
            return new StepPolicies(retry, s.Timeout, breaker, engine.Time);
        }, this);

    /// <summary>
    /// Set by the replayer: an execution checks the run method against the journal and stops where the journal ends —
    /// nothing live starts — throwing what would have stopped the run (a non-determinism) instead of recording it.
    /// </summary>
    public bool ReplayOnly { get; set; }

    /// <summary>This process's running worker, which runs the starts made here while it has a free slot; null when none runs.</summary>
    public ILocalRunner? LocalRunner
    {
        get => Volatile.Read(ref _localRunner);
        set => Volatile.Write(ref _localRunner, value);
    }

    private ILocalRunner? _localRunner;

    /// <summary>Set when this process started a run, so that an idle worker looks for work at once.</summary>
    public WakeSignal RunsAvailable { get; } = new();

    /// <summary>
    /// The current time at millisecond precision: what every store can keep, so that a journaled time read back on
    /// replay (<see cref="Workflow.Now"/>) equals the one the live execution saw.
    /// </summary>
    public DateTimeOffset UtcNow() => WholeMilliseconds(Time.GetUtcNow());

    private int _busy;

    /// <summary>
    /// How many parts of the engine are working now: executions handling an event (each event waiting in an execution's
    /// queue counts too), operations between their waits, the worker between its sleeps. Zero when every part waits for
    /// a time or an event. The test kit reads it to tell when its virtual clock may skip to the next due time.
    /// </summary>
    public int Busy => Volatile.Read(ref _busy);

    /// <summary>A part of the engine starts working (see <see cref="Busy"/>); each call is matched by one <see cref="Leave"/>.</summary>
    public void Enter() => Interlocked.Increment(ref _busy);

    /// <summary>A part of the engine stops working.</summary>
    public void Leave() => Interlocked.Decrement(ref _busy);

    /// <summary>
    /// Waits for <paramref name="wait"/> — a timer or an event, already armed — counted as not working meanwhile. The
    /// count comes back on the thread that completes the wait (the one firing the timer), before anything else runs, so a
    /// clock that fires a timer sees the engine busy again at once.
    /// </summary>
    public Task ParkedAsync(Task wait)
    {
        Leave();
        return wait.ContinueWith(static (done, state) =>
        {
            ((EngineContext)state!).Enter();
            return done;
        }, this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).Unwrap();
    }

    /// <summary>
    /// When the attempt after <paramref name="failedAttempts"/> failed ones is due under <paramref name="policy"/>, with
    /// jitter, at millisecond precision like every journaled time, so the time waited for is the time stored.
    /// </summary>
    public DateTimeOffset RetryTime(RetryPolicy policy, int failedAttempts)
        => WholeMilliseconds(Time.GetUtcNow() + policy.Delay(failedAttempts, Random.Shared.NextDouble()));

    private static DateTimeOffset WholeMilliseconds(DateTimeOffset time) => time.AddTicks(-(time.Ticks % TimeSpan.TicksPerMillisecond));

    /// <summary>
    /// Waits for this process to next see <paramref name="workflowId"/> finish: <see cref="FinishWait.Task"/> completes
    /// with the run's outcome when this process finished it, with null when only told so (by the store); callers
    /// re-read the store in that case. Dispose it when no longer waiting, so that runs nobody waits for leave nothing behind.
    /// </summary>
    public FinishWait WhenFinished(string workflowId)
    {
        lock (_finished)
        {
            if (!_finished.TryGetValue(workflowId, out var wait))
            {
                _finished[workflowId] = wait = new FinishWait(this, workflowId);
            }

            wait.Waiters++;
            return wait;
        }
    }

    /// <summary>How many runs callers here wait for now; for tests.</summary>
    public int RunsWaitedFor
    {
        get
        {
            lock (_finished)
            {
                return _finished.Count;
            }
        }
    }

    private void StopWaiting(FinishWait wait)
    {
        lock (_finished)
        {
            if (--wait.Waiters == 0 && _finished.TryGetValue(wait.WorkflowId, out var current) && current == wait)
            {
                _finished.Remove(wait.WorkflowId);
            }
        }
    }

    private FinishWait? TakeWait(string workflowId)
    {
        lock (_finished)
        {
            return _finished.Remove(workflowId, out var wait) ? wait : null;
        }
    }

    /// <summary>The callers in this process waiting for one run to finish; each disposes it once when it stops waiting.</summary>
    public sealed class FinishWait(EngineContext context, string workflowId) : IDisposable
    {
        private readonly TaskCompletionSource<RunOutcome?> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string WorkflowId { get; } = workflowId;

        /// <summary>How many callers wait; guarded by the context's lock.</summary>
        public int Waiters { get; set; }

        public Task<RunOutcome?> Task => _done.Task;

        public void Finish(RunOutcome? outcome) => _done.TrySetResult(outcome);

        public void Dispose() => context.StopWaiting(this);
    }

    /// <summary>Calls <paramref name="wake"/> whenever run <paramref name="workflowId"/> may have received a signal, until disposed.</summary>
    public IDisposable OnSignalled(string workflowId, Action wake)
    {
        _signalled[workflowId] = wake;
        return new Subscription(() => _signalled.TryRemove(new KeyValuePair<string, Action>(workflowId, wake)));
    }

    /// <summary>
    /// Wakes the execution of <paramref name="workflowId"/> to look for signals, or every execution when it is
    /// <see langword="null"/>; when no execution here has the run loaded, it may be unloaded and now claimable, so the
    /// worker looks for work.
    /// </summary>
    public void NotifySignalled(string? workflowId)
    {
        if (workflowId is null)
        {
            foreach (var wake in _signalled.Values)
            {
                wake();
            }

            RunsAvailable.Set();
        }
        else if (_signalled.TryGetValue(workflowId, out var wake))
        {
            wake();
        }
        else
        {
            RunsAvailable.Set();
        }
    }

    private sealed class Subscription(Action dispose) : IDisposable
    {
        public void Dispose() => dispose();
    }

    /// <summary>Wakes the callers waiting for <paramref name="workflowId"/>, or every waiting caller when it is <see langword="null"/>.</summary>
    public void NotifyFinished(string? workflowId)
    {
        if (workflowId is null)
        {
            string[] all;
            lock (_finished)
            {
                all = [.. _finished.Keys];
            }

            foreach (var id in all)
            {
                NotifyFinished(id);
            }
        }
        else
        {
            TakeWait(workflowId)?.Finish(null);
        }
    }

    /// <summary>
    /// The store announced that <paramref name="workflowId"/> finished (or, null, that announcements may have been
    /// lost). A run executing here is left to its execution, which hands its waiters the outcome when it ends — the
    /// announcement can arrive first, and would make them read the store for nothing.
    /// </summary>
    public void NotifyFinishedByStore(string? workflowId)
    {
        if (workflowId is null || LocalRunner?.IsRunning(workflowId) != true)
        {
            NotifyFinished(workflowId);
        }
    }

    /// <summary>Hands the outcome of <paramref name="workflowId"/>, just stored by this process, to the callers waiting for it.</summary>
    public void NotifyFinished(string workflowId, RunOutcome outcome) => TakeWait(workflowId)?.Finish(outcome);
}

/// <summary>An auto-reset wake-up: <see cref="Set"/> completes the current <see cref="WaitAsync"/>, or the next one.</summary>
internal sealed class WakeSignal
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Set() => Volatile.Read(ref _next).TrySetResult();

    public async Task WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var current = Volatile.Read(ref _next);
        try
        {
            await current.Task.WaitAsync(timeout, time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }

        if (current.Task.IsCompleted)
        {
            Interlocked.CompareExchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), current);
        }
    }
}

/// <summary>Where the test kit can stop an engine as a crash would (see <see cref="EngineContext.CrashHook"/>).</summary>
internal enum CrashSiteKind
{
    /// <summary>A step attempt is about to run its body.</summary>
    BeforeStepBody,

    /// <summary>A step's body has returned or thrown; its outcome is not journaled yet.</summary>
    AfterStepBody,

    /// <summary>A step's outcome is journaled; the run method has not received it yet.</summary>
    AfterStepJournaled,
}

/// <summary>A crash site reached: which run, step call and attempt.</summary>
internal sealed record CrashSite(CrashSiteKind Kind, string WorkflowId, string StepId, long Sequence, int Attempt);
