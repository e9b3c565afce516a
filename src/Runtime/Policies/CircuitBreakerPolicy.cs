namespace Durably.Runtime;

/// <summary>
/// When a circuit breaker named by <c>[Step(CircuitBreaker = "…")]</c> opens, and for how long. The breaker is
/// Polly's (<c>Polly.CircuitBreaker</c>): it opens when, within <see cref="SamplingDuration"/>, at least
/// <see cref="MinimumThroughput"/> attempts went through it and at least <see cref="FailureRatio"/> of them failed
/// (timeouts included). While open, steps naming it wait — without using up attempts — for <see cref="BreakDuration"/>;
/// then one trial attempt goes through, and its outcome closes the breaker or opens it again.
/// </summary>
/// <remarks>
/// The default opens after 5 failed attempts in a row within 30 seconds and stays open 30 seconds. Breakers live in a
/// worker's memory: each worker process has its own, and a restarted worker starts with every breaker closed.
/// </remarks>
public sealed record CircuitBreakerPolicy
{
    /// <summary>The shortest <see cref="SamplingDuration"/> and <see cref="BreakDuration"/>.</summary>
    public static readonly TimeSpan MinDuration = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest <see cref="SamplingDuration"/> and <see cref="BreakDuration"/>.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(1);

    /// <summary>The fraction of failed attempts, more than 0 and at most 1, that opens the breaker.</summary>
    public double FailureRatio { get; init; } = 1.0;

    /// <summary>How many attempts, at least 2, must have gone through within <see cref="SamplingDuration"/> before it may open.</summary>
    public int MinimumThroughput { get; init; } = 5;

    /// <summary>The window over which failures are counted.</summary>
    public TimeSpan SamplingDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the breaker stays open before it lets a trial attempt through.</summary>
    public TimeSpan BreakDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Throws, naming the property and its value, unless every setting is usable.</summary>
    /// <param name="owner">What the policy belongs to, for the message (e.g. "circuit breaker 'payments'").</param>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public void Validate(string owner)
    {
        Check(FailureRatio is > 0 and <= 1, nameof(FailureRatio), FailureRatio, "more than 0 and at most 1");
        Check(MinimumThroughput >= 2, nameof(MinimumThroughput), MinimumThroughput, "at least 2");
        Check(SamplingDuration >= MinDuration && SamplingDuration <= MaxDuration, nameof(SamplingDuration), SamplingDuration, $"between {MinDuration} and {MaxDuration}");
        Check(BreakDuration >= MinDuration && BreakDuration <= MaxDuration, nameof(BreakDuration), BreakDuration, $"between {MinDuration} and {MaxDuration}");

        void Check(bool valid, string property, object value, string expected)
        {
            if (!valid)
            {
                throw new ArgumentException($"The policy of {owner} has {property} = {value}; it must be {expected}.", property);
            }
        }
    }
}
