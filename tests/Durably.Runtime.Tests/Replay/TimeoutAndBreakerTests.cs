using Durably.Infrastructure;
using Durably.Runtime.Engine;
using Durably.Runtime.Journal;
using Durably.Runtime.Policies;
using Durably.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime.Tests.Replay;

/// <summary>
/// Per-attempt timeouts (Polly's timeout strategy) delivered through the step's token, and named circuit breakers
/// (Polly's breaker) shared by the steps naming them. The logic is store-independent, so these run in memory; time
/// moves only when the test says.
/// </summary>
public sealed class TimeoutAndBreakerTests : StoreTestBase
{
    private static readonly TimeSpan s_millisecond = TimeSpan.FromMilliseconds(1);
    private readonly BodyLog _log = new();
    private readonly AttemptScript _script = new();
    private readonly PaymentService _payments = new();

    private protected override TestStorage CreateStorage() => TestStorage.InMemory(Clock);

    private TestHost Host(Action<DurableOptions>? options = null) => Track(new TestHost(
        OpenStore(), d => d.AddWorkflow<Deadline>().AddWorkflow<Guarded>(),
        s => s.AddSingleton<TimeProvider>(Clock).AddSingleton(_log).AddSingleton(_script).AddSingleton(_payments).AddScoped<ScopeProbe>(),
        options: o =>
        {
            o.UnloadThreshold = Timeout.InfiniteTimeSpan;
            o.DefaultRetryPolicy = new RetryPolicy { MaxAttempts = 3, InitialDelay = TimeSpan.Zero, Jitter = 0 };
            options?.Invoke(o);
        }));

    [Fact]
    public async Task A_timeout_cancels_the_attempt_s_token_at_its_time_and_fails_the_attempt_with_StepTimeoutException()
    {
        // Each attempt waits on its token, as a well-behaved body does.
        _script.Body = async (_, token) =>
        {
            await Task.Delay(Timeout.Infinite, token);
            return "never";
        };
        var host = Host();
        await host.Get<DeadlineClient>().StartAsync("charge", "timeout-1");
        var execution = host.Engine.ExecuteAsync("timeout-1");

        for (var attempt = 1; attempt <= 2; attempt++)
        {
            var seen = await _script.Attempt(attempt);
            Assert.True(seen.ContextHasSameToken, "StepContext.Current.CancellationToken is not the attempt's token");
            var timeoutAt = Clock.GetUtcNow() + TimeSpan.FromSeconds(5);
            await Clock.ArmedForAsync(timeoutAt);
            Clock.Advance(TimeSpan.FromSeconds(5) - s_millisecond);
            Assert.True(Clock.IsArmedFor(timeoutAt));
            Assert.False(seen.Token.IsCancellationRequested, $"attempt {attempt} was cancelled before its 5 s were up");
            Assert.False(_script.Started(attempt + 1));
            Clock.Advance(s_millisecond);
            await seen.Scope.Disposed.WaitAsync(Wait.Timeout);
            Assert.True(seen.Token.IsCancellationRequested);
        }

        Assert.Equal(WorkflowStatus.Completed, (await execution.WaitAsync(Wait.Timeout)).Status);
        const string message = "Attempt 2 of step 'Call' did not finish within its timeout of 00:00:05; its outcome is unknown.";
        Assert.Equal($"gave up: Durably.StepTimeoutException: {message}", await host.Client.WaitForResultAsync<string>("timeout-1"));
        var row = (await host.Store.LoadAsync("timeout-1", default))!.Journal.Single();
        Assert.Equal((JournalEntryState.Failed, 2, new WorkflowError("Durably.StepTimeoutException", message)), (row.State, row.Attempts, row.Error));
    }

    [Fact]
    public async Task A_body_that_ignores_its_token_is_left_running_and_its_late_result_is_discarded()
    {
        var stubborn = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        _script.Body = (attempt, _) => attempt == 1 ? stubborn.Task : Task.FromResult("ok after 2");
        var host = Host();
        await host.Get<DeadlineClient>().StartAsync("charge", "timeout-2");
        var execution = host.Engine.ExecuteAsync("timeout-2");
        var first = await _script.Attempt(1);

        // At 5 s the attempt fails and the retry runs, while the first body is still running.
        Clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(WorkflowStatus.Completed, (await execution.WaitAsync(Wait.Timeout)).Status);
        Assert.Equal("charge ok after 2", await host.Client.WaitForResultAsync<string>("timeout-2"));
        Assert.False(stubborn.Task.IsCompleted);
        Assert.False(first.Scope.Disposed.IsCompleted, "the abandoned body's scoped services were disposed under it");

        // Its late result changes nothing; its scope is disposed once it returns.
        stubborn.SetResult("late");
        await first.Scope.Disposed.WaitAsync(Wait.Timeout);
        Assert.Equal("charge ok after 2", await host.Client.WaitForResultAsync<string>("timeout-2"));
        var row = (await host.Store.LoadAsync("timeout-2", default))!.Journal.Single();
        Assert.Equal((JournalEntryState.Completed, 2, "\"charge ok after 2\""), (row.State, row.Attempts, row.OutputJson));
        Assert.Equal([1, 2], _log.Runs.Select(r => r.Attempt));
    }

    [Fact]
    public async Task An_open_breaker_holds_every_step_naming_it_without_using_up_attempts_and_lets_them_through_after_the_cooldown()
    {
        var host = Host(o => o.CircuitBreakers["payments"] = new CircuitBreakerPolicy
        {
            FailureRatio = 1, MinimumThroughput = 2, SamplingDuration = TimeSpan.FromMinutes(1), BreakDuration = TimeSpan.FromSeconds(30),
        });
        _payments.Down = true;
        var cooldownEnds = Clock.GetUtcNow() + TimeSpan.FromSeconds(30);
        var client = host.Get<GuardedClient>();
        await client.StartAsync("charge", "breaker-1");
        var charge = host.Engine.ExecuteAsync("breaker-1");

        // Two failed attempts open the breaker; the third (of three allowed) waits for it instead of failing.
        await Wait.UntilAsync(async () => (await host.Store.LoadAsync("breaker-1", default))!.Journal.SingleOrDefault() is { Attempts: 2, State: JournalEntryState.Attempting }, "run breaker-1 never journaled its second failed attempt");
        await Clock.ArmedForAsync(cooldownEnds);
        Assert.Equal(2, _payments.Calls);
        Assert.False(charge.IsCompleted);

        // Another step naming the same breaker is held too: its body does not run and it journals nothing.
        await client.StartAsync("refund", "breaker-2");
        var refund = host.Engine.ExecuteAsync("breaker-2");
        await Clock.ArmedForAsync(cooldownEnds, count: 2);
        Assert.Equal(2, _payments.Calls);
        Assert.Empty((await host.Store.LoadAsync("breaker-2", default))!.Journal);

        // A step naming another breaker is not held.
        _payments.Down = false;
        await client.StartAsync("ship", "breaker-3");
        Assert.Equal(WorkflowStatus.Completed, (await host.Engine.ExecuteAsync("breaker-3").WaitAsync(Wait.Timeout)).Status);
        Assert.Equal(3, _payments.Calls);

        // Not a moment before the cooldown ends; then the trial attempt closes the breaker and both go on.
        Clock.Advance(TimeSpan.FromSeconds(30) - s_millisecond);
        Assert.Equal(2, Clock.ArmedFor(cooldownEnds));
        Assert.Equal(3, _payments.Calls);
        Clock.Advance(s_millisecond);
        Assert.Equal(WorkflowStatus.Completed, (await charge.WaitAsync(Wait.Timeout)).Status);
        Assert.Equal(WorkflowStatus.Completed, (await refund.WaitAsync(Wait.Timeout)).Status);
        Assert.Equal("charge ok after 3", await host.Client.WaitForResultAsync<string>("breaker-1"));
        Assert.Equal("refund ok after 1", await host.Client.WaitForResultAsync<string>("breaker-2"));
        Assert.Equal(5, _payments.Calls);
    }

    [Fact]
    public async Task A_failed_trial_attempt_opens_the_breaker_again_and_a_cancel_ends_a_run_waiting_for_it()
    {
        var host = Host(o => o.CircuitBreakers["payments"] = new CircuitBreakerPolicy
        {
            MinimumThroughput = 2, BreakDuration = TimeSpan.FromSeconds(10),
        });
        _payments.Down = true;
        await host.Get<GuardedClient>().StartAsync("charge", "breaker-4");
        var charge = host.Engine.ExecuteAsync("breaker-4");
        await Wait.UntilAsync(() => Task.FromResult(_payments.Calls == 2), "the payments service was never called twice");

        // The trial attempt after the cooldown fails: the run method sees the third attempt's failure (its budget is used).
        Clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(WorkflowStatus.Completed, (await charge.WaitAsync(Wait.Timeout)).Status);
        Assert.Equal("gave up: System.Net.Http.HttpRequestException: payments is down (charge)", await host.Client.WaitForResultAsync<string>("breaker-4"));
        Assert.Equal(3, _payments.Calls);

        // The breaker is open again: a new run waits for it, and a cancel ends that wait.
        await host.Get<GuardedClient>().StartAsync("refund", "breaker-5");
        var refund = host.Engine.ExecuteAsync("breaker-5");
        await Clock.ArmedForAsync(Clock.GetUtcNow() + TimeSpan.FromSeconds(10));
        Assert.Equal(3, _payments.Calls);
        Assert.Equal(CancelResult.Requested, await host.Client.CancelAsync("breaker-5", "payments stays down"));
        Assert.Equal(WorkflowStatus.Cancelled, (await refund.WaitAsync(Wait.Timeout)).Status);
        Assert.Equal(3, _payments.Calls);
    }

    [Fact]
    public void Breaker_policies_and_step_timeouts_out_of_range_are_refused_by_name_and_the_limits_are_Polly_s()
    {
        var policy = new CircuitBreakerPolicy();
        foreach (var (bad, named) in new (CircuitBreakerPolicy, string)[]
        {
            (policy with { FailureRatio = 0 }, "FailureRatio = 0; it must be more than 0 and at most 1"),
            (policy with { FailureRatio = 1.5 }, "FailureRatio = 1.5"),
            (policy with { FailureRatio = double.NaN }, "FailureRatio = NaN"),
            (policy with { MinimumThroughput = 1 }, "MinimumThroughput = 1; it must be at least 2"),
            (policy with { SamplingDuration = TimeSpan.FromMilliseconds(499) }, "SamplingDuration = 00:00:00.4990000; it must be between 00:00:00.5000000 and 1.00:00:00"),
            (policy with { BreakDuration = TimeSpan.FromDays(2) }, "BreakDuration = 2.00:00:00"),
        })
        {
            var error = Assert.Throws<ArgumentException>(() => bad.Validate("circuit breaker 'payments'"));
            Assert.Contains($"The policy of circuit breaker 'payments' has {named}", error.Message, StringComparison.Ordinal);
        }

        var options = new DurableOptions();
        options.CircuitBreakers[""] = policy;
        Assert.Contains("DurableOptions.CircuitBreakers has a breaker named ''", Assert.Throws<ArgumentException>(options.Validate).Message, StringComparison.Ordinal);
        options.CircuitBreakers.Clear();
        options.CircuitBreakers["payments"] = null!;
        Assert.Contains("DurableOptions.CircuitBreakers['payments'] is null", Assert.Throws<ArgumentException>(options.Validate).Message, StringComparison.Ordinal);
        options.CircuitBreakers["payments"] = policy with { MinimumThroughput = 0 };
        Assert.Contains("circuit breaker 'payments' has MinimumThroughput = 0", Assert.Throws<ArgumentException>(options.Validate).Message, StringComparison.Ordinal);
        options = new DurableOptions { DefaultCircuitBreakerPolicy = policy with { BreakDuration = TimeSpan.Zero } };
        Assert.Contains("DurableOptions.DefaultCircuitBreakerPolicy has BreakDuration = 00:00:00", Assert.Throws<ArgumentException>(options.Validate).Message, StringComparison.Ordinal);

        // The extremes accepted here are accepted by Polly (which would throw its own ValidationException otherwise).
        var extremes = new DurableOptions();
        extremes.CircuitBreakers["least"] = new() { FailureRatio = double.Epsilon, MinimumThroughput = 2, SamplingDuration = CircuitBreakerPolicy.MinDuration, BreakDuration = CircuitBreakerPolicy.MinDuration };
        extremes.CircuitBreakers["most"] = new() { FailureRatio = 1, MinimumThroughput = int.MaxValue, SamplingDuration = CircuitBreakerPolicy.MaxDuration, BreakDuration = CircuitBreakerPolicy.MaxDuration };
        extremes.Validate();
        var engine = new EngineContext(new global::Durably.Runtime.Stores.InMemoryWorkflowStore(), extremes, new ServiceCollection().BuildServiceProvider(), Clock);
        Assert.Equal("least", engine.PoliciesFor(Step(StepPolicies.MinTimeout, "least")).Breaker!.Name);
        Assert.Equal("most", engine.PoliciesFor(Step(StepPolicies.MaxTimeout, "most")).Breaker!.Name);
        Assert.Same(engine.PoliciesFor(Step(null, "most")).Breaker, engine.PoliciesFor(Step(null, "most")).Breaker);

        // Hand-built step tables (the generator reports these at compile time) are refused when first used.
        Assert.Contains("Step 'Charge' has Timeout = 00:00:00.0090000; it must be between 00:00:00.0100000 and 1.00:00:00",
            Assert.Throws<ArgumentException>(() => engine.PoliciesFor(Step(TimeSpan.FromMilliseconds(9), null))).Message, StringComparison.Ordinal);
        Assert.Contains("Step 'Charge' has Timeout = 1.00:00:00.0000001",
            Assert.Throws<ArgumentException>(() => engine.PoliciesFor(Step(TimeSpan.FromDays(1) + TimeSpan.FromTicks(1), null))).Message, StringComparison.Ordinal);
        Assert.Contains("Step 'Charge' has CircuitBreaker = ' '; a breaker name must not be empty",
            Assert.Throws<ArgumentException>(() => engine.PoliciesFor(Step(null, " "))).Message, StringComparison.Ordinal);

        static StepDefinition Step(TimeSpan? timeout, string? breaker)
            => new StepDefinition<object, Unit, Unit>("Charge", "Charge", (_, _, _) => Task.FromResult(Unit.Value)) { Timeout = timeout, CircuitBreaker = breaker };
    }
}
