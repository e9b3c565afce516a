using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime.Tests.Support;

// Workflows for step policies: retries, timeouts and circuit breakers.

/// <summary>How <see cref="Flaky"/>'s step fails: the exception each attempt throws, by attempt number; later attempts succeed.</summary>
internal sealed class FlakyPlan
{
    public Func<int, Exception?> FailureOf { get; set; } = attempt => attempt <= 3 ? new TimeoutException($"attempt {attempt} timed out") : null;

    /// <summary>The current attempt's outcome: the planned failure, or "… ok after n".</summary>
    public Task<string> Attempt(string what)
    {
        var attempt = StepContext.Current!.Attempt;
        return FailureOf(attempt) is { } failure ? Task.FromException<string>(failure) : Task.FromResult($"{what} ok after {attempt}");
    }
}

/// <summary>One step that fails as the plan says; the run method returns its result or the failure it caught.</summary>
[DurableWorkflow]
internal partial class Flaky(BodyLog log, FlakyPlan plan)
{
    [WorkflowRun]
    public async Task<string> RunAsync(string what)
    {
        try
        {
            return await Call(what);
        }
        catch (StepFailedException failure)
        {
            return $"gave up: {failure.Error}";
        }
    }

    [Step]
    private Task<string> Call(string what)
    {
        log.Record();
        return plan.Attempt(what);
    }
}

/// <summary>The retry policy on the attribute: three attempts, no delay, timeouts only.</summary>
[DurableWorkflow]
internal partial class AttributeRetried(BodyLog log, FlakyPlan plan)
{
    [WorkflowRun]
    public async Task<string> RunAsync(string what)
    {
        try
        {
            return await Call(what);
        }
        catch (StepFailedException failure)
        {
            return $"gave up: {failure.Error}";
        }
    }

    [Step(MaxAttempts = 3, InitialDelay = "0s", RetryOn = [typeof(TimeoutException)])]
    private Task<string> Call(string what)
    {
        log.Record();
        return plan.Attempt(what);
    }
}

/// <summary>What each attempt of a scripted step does, and what each attempt saw: its token and its DI scope.</summary>
internal sealed class AttemptScript
{
    private readonly ConcurrentDictionary<int, TaskCompletionSource<SeenAttempt>> _attempts = new();

    /// <summary>The body of attempt n; by default it succeeds at once.</summary>
    public Func<int, CancellationToken, Task<string>> Body { get; set; } = (attempt, _) => Task.FromResult($"ok after {attempt}");

    public Task<string> Run(string what, CancellationToken cancellationToken)
    {
        var step = StepContext.Current!;
        var seen = new SeenAttempt(cancellationToken, step.CancellationToken == cancellationToken, step.Services.GetRequiredService<ScopeProbe>());
        Seen(step.Attempt).TrySetResult(seen);
        return Body(step.Attempt, cancellationToken).ContinueWith(t => $"{what} {t.Result}", TaskScheduler.Default);
    }

    /// <summary>Completes when attempt <paramref name="attempt"/> (from 1) started its body.</summary>
    public Task<SeenAttempt> Attempt(int attempt) => Seen(attempt).Task.WaitAsync(TimeSpan.FromSeconds(30));

    public bool Started(int attempt) => _attempts.TryGetValue(attempt, out var seen) && seen.Task.IsCompleted;

    private TaskCompletionSource<SeenAttempt> Seen(int attempt)
        => _attempts.GetOrAdd(attempt, _ => new TaskCompletionSource<SeenAttempt>(TaskCreationOptions.RunContinuationsAsynchronously));
}

/// <summary>What one attempt's body was given.</summary>
internal sealed record SeenAttempt(CancellationToken Token, bool ContextHasSameToken, ScopeProbe Scope);

/// <summary>A scoped service that knows when its scope was disposed.</summary>
internal sealed class ScopeProbe : IAsyncDisposable
{
    private readonly TaskCompletionSource _disposed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Disposed => _disposed.Task;

    public ValueTask DisposeAsync()
    {
        _disposed.TrySetResult();
        return ValueTask.CompletedTask;
    }
}

/// <summary>One step with a 5 s timeout and two attempts; the run method returns its result or the failure it caught.</summary>
[DurableWorkflow]
internal partial class Deadline(BodyLog log, AttemptScript script)
{
    [WorkflowRun]
    public async Task<string> RunAsync(string what)
    {
        try
        {
            return await Call(what);
        }
        catch (StepFailedException failure)
        {
            return $"gave up: {failure.Error}";
        }
    }

    [Step(Timeout = "5s", MaxAttempts = 2, InitialDelay = "0s")]
    private Task<string> Call(string what, CancellationToken cancellationToken = default)
    {
        log.Record();
        return script.Run(what, cancellationToken);
    }
}

/// <summary>The "payments" service behind a breaker: up or down, and how often it was called.</summary>
internal sealed class PaymentService
{
    private int _calls;

    public volatile bool Down;

    public int Calls => Volatile.Read(ref _calls);

    public Task<string> CallAsync(string what)
    {
        Interlocked.Increment(ref _calls);
        return Down ? Task.FromException<string>(new HttpRequestException($"payments is down ({what})")) : Task.FromResult($"{what} ok after {StepContext.Current!.Attempt}");
    }
}

/// <summary>Two steps naming the "payments" breaker and one naming "shipping"; the run method calls the one its input names.</summary>
[DurableWorkflow]
internal partial class Guarded(PaymentService payments)
{
    [WorkflowRun]
    public async Task<string> RunAsync(string step)
    {
        try
        {
            return step switch
            {
                "charge" => await Charge(),
                "refund" => await Refund(),
                _ => await Ship(),
            };
        }
        catch (StepFailedException failure)
        {
            return $"gave up: {failure.Error}";
        }
    }

    [Step(CircuitBreaker = "payments")]
    private Task<string> Charge() => payments.CallAsync("charge");

    [Step(CircuitBreaker = "payments")]
    private Task<string> Refund() => payments.CallAsync("refund");

    [Step(CircuitBreaker = "shipping")]
    private Task<string> Ship() => payments.CallAsync("ship");
}
