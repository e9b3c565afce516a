using Polly;
using Polly.CircuitBreaker;

namespace Durably.Runtime.Policies;

/// <summary>
/// A named circuit breaker shared by every step naming it in this engine: Polly's breaker over attempt outcomes (a
/// failed attempt counts as a failure; store errors and stops do not). While it is open, attempts wait for it rather than
/// fail, so a breaker never uses up a step's attempts.
/// </summary>
internal sealed class CircuitBreaker
{
    private readonly ResiliencePipeline<AttemptOutcome> _pipeline;
    private readonly Engine.EngineContext _engine;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public CircuitBreaker(string name, CircuitBreakerPolicy policy, Engine.EngineContext engine)
    {
        Name = name;
        Policy = policy;
        _engine = engine;
        _pipeline = new ResiliencePipelineBuilder<AttemptOutcome> { Name = "Durably circuit breaker " + name, TimeProvider = engine.Time }
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
                var delay = Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(retryAfter.TotalMilliseconds)), _engine.Time, waiting.Token);
                await _engine.ParkedAsync(Task.WhenAny(delay, changed.WaitAsync(waiting.Token))).ConfigureAwait(false);
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
