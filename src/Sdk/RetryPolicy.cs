namespace Durably;

/// <summary>
/// How a step is retried when an attempt throws: how many attempts in all, how long to wait before each retry
/// (exponential backoff with jitter, journaled as a durable timer), and which exceptions are worth retrying.
/// Set a workflow-wide default in <c>DurableOptions.DefaultRetryPolicy</c>; override it per step on <see cref="StepAttribute"/>.
/// </summary>
/// <remarks>
/// The delay before retry <c>n</c> (after <c>n</c> failed attempts) is
/// <c>min(MaxDelay, InitialDelay × BackoffCoefficient^(n−1))</c>, shortened by up to <see cref="Jitter"/> of itself at
/// random, so it never exceeds <see cref="MaxDelay"/>. A worker that stops during an attempt counts that attempt; the
/// body always runs again after such a stop.
/// </remarks>
public sealed record RetryPolicy
{
    /// <summary>One attempt, no retries: the default.</summary>
    public static RetryPolicy None { get; } = new();

    /// <summary>How many attempts in all, the first included; 1 means no retries.</summary>
    public int MaxAttempts { get; init; } = 1;

    /// <summary>The delay before the first retry.</summary>
    public TimeSpan InitialDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How much each delay grows over the previous one; at least 1.</summary>
    public double BackoffCoefficient { get; init; } = 2;

    /// <summary>The longest delay.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The largest fraction, 0 to 1, by which a delay is shortened at random, so that retries of many runs spread out.</summary>
    public double Jitter { get; init; } = 0.2;

    /// <summary>When not empty, only exceptions of these types (or derived from them) are retried.</summary>
    public IReadOnlyList<Type> RetryOn { get; init; } = [];

    /// <summary>Exceptions of these types (or derived from them) are never retried; this wins over <see cref="RetryOn"/>.</summary>
    public IReadOnlyList<Type> DoNotRetryOn { get; init; } = [];

    /// <summary>The delay before the retry that follows <paramref name="failedAttempts"/> attempts, before jitter.</summary>
    /// <param name="failedAttempts">Attempts made so far, at least 1.</param>
    /// <returns>The delay.</returns>
    public TimeSpan BaseDelay(int failedAttempts)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(failedAttempts, 1);
        var ticks = InitialDelay.Ticks * Math.Pow(BackoffCoefficient, failedAttempts - 1);
        return ticks >= MaxDelay.Ticks || double.IsNaN(ticks) ? MaxDelay : TimeSpan.FromTicks((long)ticks);
    }

    /// <summary>The delay before the retry that follows <paramref name="failedAttempts"/> attempts, with jitter.</summary>
    /// <param name="failedAttempts">Attempts made so far, at least 1.</param>
    /// <param name="random">A number in [0, 1) that picks the jitter.</param>
    /// <returns>A delay between <c>BaseDelay × (1 − Jitter)</c> and <c>BaseDelay</c>.</returns>
    public TimeSpan Delay(int failedAttempts, double random)
    {
        var delay = BaseDelay(failedAttempts);
        return TimeSpan.FromTicks(delay.Ticks - (long)(delay.Ticks * Jitter * Math.Clamp(random, 0, 1)));
    }

    /// <summary>Whether an attempt that threw <paramref name="exception"/> may be retried (budget aside).</summary>
    /// <param name="exception">What the attempt threw.</param>
    /// <returns><see langword="true"/> when the exception's type is retryable.</returns>
    public bool IsRetryable(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var type = exception.GetType();
        return !DoNotRetryOn.Any(t => t.IsAssignableFrom(type)) && (RetryOn.Count == 0 || RetryOn.Any(t => t.IsAssignableFrom(type)));
    }

    /// <summary>Throws, naming the property and its value, unless every setting is usable.</summary>
    /// <param name="owner">What the policy belongs to, for the message (e.g. "step 'Charge'").</param>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public void Validate(string owner)
    {
        Check(MaxAttempts >= 1, nameof(MaxAttempts), MaxAttempts, "at least 1");
        Check(InitialDelay >= TimeSpan.Zero, nameof(InitialDelay), InitialDelay, "zero or more");
        Check(BackoffCoefficient >= 1 && double.IsFinite(BackoffCoefficient), nameof(BackoffCoefficient), BackoffCoefficient, "a finite number of at least 1");
        Check(MaxDelay >= InitialDelay, nameof(MaxDelay), MaxDelay, $"at least InitialDelay ({InitialDelay})");
        Check(Jitter is >= 0 and <= 1, nameof(Jitter), Jitter, "between 0 and 1");
        Check(RetryOn.Concat(DoNotRetryOn).All(t => t is not null && typeof(Exception).IsAssignableFrom(t)), nameof(RetryOn), string.Join(", ", RetryOn.Concat(DoNotRetryOn)), "exception types");

        void Check(bool valid, string property, object value, string expected)
        {
            if (!valid)
            {
                throw new ArgumentException($"The retry policy of {owner} has {property} = {value}; it must be {expected}.", property);
            }
        }
    }
}
