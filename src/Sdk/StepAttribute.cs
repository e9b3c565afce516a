namespace Durably;

/// <summary>
/// Marks a method of a workflow that touches the outside world. Every call to it from the workflow is a durable
/// operation: its outcome is journaled, and once journaled its body never runs again for that run.
/// </summary>
/// <remarks>
/// A step returns <see cref="Task"/>, <see cref="Task{TResult}"/>, <see cref="ValueTask"/> or
/// <see cref="ValueTask{TResult}"/>. It may take a <see cref="CancellationToken"/>, which the engine supplies.
/// A step called from inside another step's body runs as a plain method call, without a journal entry of its own.
/// Retry settings left out here come from <c>DurableOptions.DefaultRetryPolicy</c> (by default: one attempt). Durations
/// are written <c>"500ms"</c>, <c>"30s"</c>, <c>"5m"</c>, <c>"2h"</c>, <c>"1d"</c> or <c>"hh:mm:ss"</c>; the generator
/// checks every value at compile time.
/// </remarks>
/// <example>
/// <code>
/// [Step(MaxAttempts = 5, InitialDelay = "2s", BackoffCoefficient = 2, MaxDelay = "1m", RetryOn = [typeof(HttpRequestException)])]
/// private async Task&lt;Receipt&gt; Charge(Order order, CancellationToken ct = default) { ... }
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class StepAttribute : Attribute
{
    /// <summary>
    /// The step's stable id, journaled with every call and part of its idempotency key. Defaults to the method
    /// name; set it to keep runs in flight valid across a rename.
    /// </summary>
    public string? Id { get; set; }

    /// <summary>How many attempts in all, the first included (see <see cref="RetryPolicy.MaxAttempts"/>).</summary>
    public int MaxAttempts { get; set; }

    /// <summary>The delay before the first retry, e.g. <c>"1s"</c> (see <see cref="RetryPolicy.InitialDelay"/>).</summary>
    public string? InitialDelay { get; set; }

    /// <summary>How much each delay grows over the previous one, at least 1 (see <see cref="RetryPolicy.BackoffCoefficient"/>).</summary>
    public double BackoffCoefficient { get; set; }

    /// <summary>The longest delay, e.g. <c>"5m"</c> (see <see cref="RetryPolicy.MaxDelay"/>).</summary>
    public string? MaxDelay { get; set; }

    /// <summary>The largest fraction, 0 to 1, by which a delay is shortened at random (see <see cref="RetryPolicy.Jitter"/>).</summary>
    public double Jitter { get; set; }

    /// <summary>When set, only these exception types are retried (see <see cref="RetryPolicy.RetryOn"/>).</summary>
    public Type[]? RetryOn { get; set; }

    /// <summary>These exception types are never retried (see <see cref="RetryPolicy.DoNotRetryOn"/>).</summary>
    public Type[]? DoNotRetryOn { get; set; }
}
