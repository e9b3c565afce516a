using Polly;

namespace Durably.Runtime.Policies;

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
