using Durably.Runtime.Journal;
using Polly;
using Polly.CircuitBreaker;

namespace Durably.Runtime.Engine;

/// <summary>What one step attempt produced: its terminal row and the exception when it failed; no row when nothing more is to be done live.</summary>
/// <param name="Terminal">The attempt's terminal row.</param>
/// <param name="Failure">What the attempt threw, when it failed.</param>
/// <param name="Transaction">A transactional step's open transaction, to commit with its journal row.</param>
internal readonly record struct AttemptOutcome(JournalEntry? Terminal, Exception? Failure, StepTransaction? Transaction = null)
{
    /// <summary>The attempt was not made or its outcome is not to be recorded (fenced, cancelled, or already terminal).</summary>
    public static AttemptOutcome None => default;
}

/// <summary>
/// What a step's attempts go through, built once per step from its attribute and the options: its retry policy, its
/// per-attempt timeout (Polly's timeout strategy) and its circuit breaker (shared by name).
/// </summary>
internal sealed class StepPolicies(RetryPolicy retry, TimeSpan? timeout, CircuitBreaker? breaker, TimeProvider time)
{
    public RetryPolicy Retry { get; } = retry;

    /// <summary>How long each attempt may take, or null: no limit.</summary>
    public TimeSpan? Timeout { get; } = timeout;

    /// <summary>The breaker the attempts go through, or null.</summary>
    public CircuitBreaker? Breaker { get; } = breaker;

    /// <summary>Cancels the token it passes on after <see cref="Timeout"/> and then throws <c>TimeoutRejectedException</c>.</summary>
    public ResiliencePipeline TimeoutPipeline { get; } = timeout is { } limit
        ? new ResiliencePipelineBuilder { TimeProvider = time }.AddTimeout(limit).Build()
        : ResiliencePipeline.Empty;

    /// <summary>Throws, naming the step and the value, when the step's own settings are out of range.</summary>
    public static void ValidateTimeout(TimeSpan? timeout, string owner)
    {
        if (timeout is { } value && (value < MinTimeout || value > MaxTimeout))
        {
            throw new ArgumentException($"{owner} has Timeout = {value}; it must be between {MinTimeout} and {MaxTimeout}.", nameof(timeout));
        }
    }

    /// <summary>The shortest step timeout (Polly's limit).</summary>
    public static readonly TimeSpan MinTimeout = TimeSpan.FromMilliseconds(10);

    /// <summary>The longest step timeout (Polly's limit).</summary>
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromDays(1);

    /// <summary>Runs <paramref name="attempt"/> through the step's breaker, waiting while the breaker is open.</summary>
    public Task<AttemptOutcome> ExecuteAsync(Func<CancellationToken, Task<AttemptOutcome>> attempt, CancellationToken cancellationToken)
        => Breaker is null ? attempt(cancellationToken) : Breaker.ExecuteAsync(attempt, cancellationToken);
}

/// <summary>
/// A named circuit breaker shared by every step naming it in this engine: Polly's breaker over attempt outcomes (a
/// failed attempt counts as a failure; store errors and stops do not). While it is open, attempts wait for it rather than
/// fail, so a breaker never uses up a step's attempts.
/// </summary>
internal sealed class CircuitBreaker
{
    private readonly ResiliencePipeline<AttemptOutcome> _pipeline;
    private readonly TimeProvider _time;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public CircuitBreaker(string name, CircuitBreakerPolicy policy, TimeProvider time)
    {
        Name = name;
        Policy = policy;
        _time = time;
        _pipeline = new ResiliencePipelineBuilder<AttemptOutcome> { Name = "Durably circuit breaker " + name, TimeProvider = time }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<AttemptOutcome>
            {
                FailureRatio = policy.FailureRatio,
                MinimumThroughput = policy.MinimumThroughput,
                SamplingDuration = policy.SamplingDuration,
                BreakDuration = policy.BreakDuration,
                ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Exception is null && args.Outcome.Result.Failure is not null),
                OnOpened = args => Changed(),
                OnHalfOpened = args => Changed(),
                OnClosed = args => Changed(),
            })
            .Build();
    }

    public string Name { get; }

    public CircuitBreakerPolicy Policy { get; }

    /// <summary>
    /// Runs <paramref name="attempt"/> once the breaker lets it through. While the breaker is open — or half-open with
    /// its trial attempt in flight — waits until it may let calls through again or its state changes, and asks again.
    /// </summary>
    public async Task<AttemptOutcome> ExecuteAsync(Func<CancellationToken, Task<AttemptOutcome>> attempt, CancellationToken cancellationToken)
    {
        while (true)
        {
            var changed = Volatile.Read(ref _changed).Task;
            try
            {
                return await _pipeline.ExecuteAsync(
                    static async (attempt, token) => await attempt(token).ConfigureAwait(false), attempt, cancellationToken).ConfigureAwait(false);
            }
            catch (BrokenCircuitException open)
            {
                var retryAfter = open.RetryAfter is { } after && after > TimeSpan.Zero ? after : Policy.BreakDuration;
                using var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                // Whole milliseconds, rounded up: a shorter timer may fire at once and spin here.
                var delay = Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(retryAfter.TotalMilliseconds)), _time, waiting.Token);
                await Task.WhenAny(delay, changed.WaitAsync(waiting.Token)).ConfigureAwait(false);
                await waiting.CancelAsync().ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
    }

    private ValueTask Changed()
    {
        Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        return ValueTask.CompletedTask;
    }
}
