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
/// [Step(MaxAttempts = 5, InitialDelay = "2s", BackoffCoefficient = 2, MaxDelay = "1m", RetryOn = [typeof(HttpRequestException)],
///       Timeout = "30s", CircuitBreaker = "payments")]
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

    /// <summary>
    /// How long each attempt may take, e.g. <c>"30s"</c> (10 ms to 1 day); none when not set. When it passes, the
    /// step's <see cref="CancellationToken"/> is cancelled and the attempt fails with <see cref="StepTimeoutException"/>,
    /// retried by the step's policy like any failure.
    /// </summary>
    /// <remarks>
    /// Cancellation is cooperative: a body that ignores its token keeps running after the timeout, and its late result
    /// (or exception) is discarded. Its DI scope is disposed when it finally returns. Take the token and pass it on.
    /// </remarks>
    public string? Timeout { get; set; }

    /// <summary>
    /// The name of a circuit breaker this step's attempts go through, e.g. <c>"payments"</c>. Every step naming the same
    /// breaker shares it within a worker: after enough failures it opens, and while it is open the steps wait for it
    /// instead of calling the service — without using up attempts — and try again once it lets calls through. Configure
    /// breakers in <c>DurableOptions.CircuitBreakers</c>; a name not configured there gets
    /// <c>DurableOptions.DefaultCircuitBreakerPolicy</c>.
    /// </summary>
    public string? CircuitBreaker { get; set; }

    /// <summary>
    /// Exactly once for database work, on the PostgreSQL store: each attempt runs in a transaction on the journal's own
    /// database, which the body gets from <c>StepContext.Current.GetPostgresTransaction()</c> (namespace
    /// <c>Durably.Runtime</c>); the body's writes and the step's completed journal row commit together, or not at all —
    /// a crash before the commit leaves neither, and the attempt runs again. A failed attempt's writes are rolled back.
    /// Any other store refuses to start a worker with such a step.
    /// </summary>
    public bool Transactional { get; set; }

    /// <summary>
    /// The method of this workflow that undoes the step, e.g. <c>nameof(Refund)</c>: run by the engine — not by your
    /// code — when the run fails under <see cref="FailureRule.Compensate"/> or is cancelled, once per completed call of
    /// this step, in reverse completion order. It returns <see cref="Task"/> or <see cref="ValueTask"/> and takes the
    /// step's result, the step's parameters, or the result followed by the parameters (or nothing), with an optional
    /// <see cref="CancellationToken"/> last (when the only parameter has the type of both, its name decides: the step
    /// parameter's name means the argument, any other the result). It is journaled like a step (its own idempotency key:
    /// <see cref="StepContext.IdempotencyKey"/> ends in <c>/compensate</c>) and retried by
    /// <c>DurableOptions.CompensationRetryPolicy</c>. A call whose outcome is unknown (its attempt timed out or was
    /// interrupted) is compensated too, so only a compensation that does not take the result can undo it.
    /// </summary>
    public string? Compensate { get; set; }
}
