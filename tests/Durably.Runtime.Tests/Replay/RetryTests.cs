using Durably.Runtime.Journal;
using Durably.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime.Tests.Replay;

/// <summary>
/// Step retries, run unchanged on every store: attempts are counted in the step's row with the last error; each backoff
/// is journaled before it starts, grows by the coefficient within the jitter bounds, holds no thread when long (the run
/// unloads), and survives a restart without being lost or shortened; exhausted or non-retryable failures reach the
/// run method as StepFailedException.
/// </summary>
public abstract class RetryTests : StoreTestBase
{
    private readonly BodyLog _log = new();
    private readonly FlakyPlan _plan = new();

    private TestHost Host(RetryPolicy policy, TimeSpan? unloadThreshold = null, string workerName = "retry-worker")
    {
        var host = new TestHost(OpenStore(), d => d.AddWorkflow<Flaky>().AddWorkflow<AttributeRetried>(),
            s => s.AddSingleton<TimeProvider>(Clock).AddSingleton(_log).AddSingleton(_plan), workerName,
            o =>
            {
                o.DefaultRetryPolicy = policy;
                o.UnloadThreshold = unloadThreshold ?? Timeout.InfiniteTimeSpan;
            });
        return Track(host);
    }

    [Fact]
    public async Task A_failing_step_is_retried_after_growing_jittered_durable_delays_until_it_succeeds()
    {
        var policy = new RetryPolicy { MaxAttempts = 4, InitialDelay = TimeSpan.FromSeconds(10), BackoffCoefficient = 2, MaxDelay = TimeSpan.FromSeconds(30), Jitter = 0.5 };
        var host = Host(policy);
        await host.Get<FlakyClient>().StartAsync("charge", "retry-1");
        var execution = host.Engine.ExecuteAsync("retry-1");

        // After attempt n fails, the row holds n attempts, its error and the next attempt's time, within the jitter bounds.
        for (var failed = 1; failed <= 3; failed++)
        {
            var row = await RowWhenAsync(host, "retry-1", r => r.Attempts == failed && r.RetryAt is not null);
            var failedAt = Clock.GetUtcNow();
            var full = policy.BaseDelay(failed);
            Assert.Equal(TimeSpan.FromSeconds(failed switch { 1 => 10, 2 => 20, _ => 30 }), full);
            Assert.InRange(row.RetryAt!.Value - failedAt, full * 0.5 - TimeSpan.FromMilliseconds(1), full);
            Assert.Equal(new WorkflowError("System.TimeoutException", $"attempt {failed} timed out"), row.Error);
            Assert.Equal(JournalEntryState.Attempting, row.State);

            // Not a moment before its time.
            await Clock.ArmedForAsync(row.RetryAt.Value);
            Clock.Advance(row.RetryAt.Value - failedAt - TimeSpan.FromMilliseconds(1));
            Assert.True(Clock.IsArmedFor(row.RetryAt.Value));
            Assert.Equal(failed, _log.Count("Call"));
            Clock.Advance(TimeSpan.FromMilliseconds(1));
        }

        Assert.Equal(WorkflowStatus.Completed, (await execution.WaitAsync(Wait.Timeout)).Status);
        Assert.Equal("charge ok after 4", await host.Client.WaitForResultAsync<string>("retry-1"));
        var done = (await host.Store.LoadAsync("retry-1", default))!.Journal.Single();
        Assert.Equal((JournalEntryState.Completed, 4, null, null), (done.State, done.Attempts, done.Error, done.RetryAt));
        Assert.Equal([1, 2, 3, 4], _log.Runs.Select(r => r.Attempt));
        Assert.Single(_log.Runs.Select(r => r.IdempotencyKey).Distinct());
    }

    [Fact]
    public async Task An_exhausted_step_fails_with_its_last_error_and_the_attempts_it_took()
    {
        _plan.FailureOf = attempt => new TimeoutException($"attempt {attempt} timed out");
        var host = Host(new RetryPolicy { MaxAttempts = 2, InitialDelay = TimeSpan.Zero, Jitter = 0 });
        await host.Get<FlakyClient>().StartAsync("charge", "retry-2");

        Assert.Equal(WorkflowStatus.Completed, (await host.Engine.ExecuteAsync("retry-2").WaitAsync(Wait.Timeout)).Status);

        Assert.Equal("gave up: System.TimeoutException: attempt 2 timed out", await host.Client.WaitForResultAsync<string>("retry-2"));
        var row = (await host.Store.LoadAsync("retry-2", default))!.Journal.Single();
        Assert.Equal((JournalEntryState.Failed, 2, null), (row.State, row.Attempts, row.RetryAt));
        Assert.Equal(2, _log.Count("Call"));
    }

    [Fact]
    public async Task Exceptions_the_policy_does_not_retry_fail_the_step_at_once()
    {
        _plan.FailureOf = attempt => new InvalidOperationException($"card declined on attempt {attempt}");
        var host = Host(new RetryPolicy { MaxAttempts = 5, InitialDelay = TimeSpan.Zero, DoNotRetryOn = [typeof(InvalidOperationException)] });
        await host.Get<FlakyClient>().StartAsync("charge", "retry-3");
        Assert.Equal(WorkflowStatus.Completed, (await host.Engine.ExecuteAsync("retry-3").WaitAsync(Wait.Timeout)).Status);
        Assert.Equal("gave up: System.InvalidOperationException: card declined on attempt 1", await host.Client.WaitForResultAsync<string>("retry-3"));

        // Only the listed types are retried: ArgumentException (not a TimeoutException) is not.
        _plan.FailureOf = attempt => attempt == 1 ? new ArgumentException("bad amount") : null;
        var only = Host(new RetryPolicy { MaxAttempts = 5, InitialDelay = TimeSpan.Zero, RetryOn = [typeof(TimeoutException)] }, workerName: "other");
        await only.Get<FlakyClient>().StartAsync("charge", "retry-4");
        Assert.Equal(WorkflowStatus.Completed, (await only.Engine.ExecuteAsync("retry-4").WaitAsync(Wait.Timeout)).Status);
        Assert.Equal("gave up: System.ArgumentException: bad amount", await only.Client.WaitForResultAsync<string>("retry-4"));
        Assert.Equal(2, _log.Count("Call"));
    }

    [Fact]
    public async Task A_long_backoff_unloads_the_run_and_a_restart_neither_loses_nor_shortens_it()
    {
        _plan.FailureOf = attempt => attempt == 1 ? new TimeoutException("gateway busy") : null;
        var policy = new RetryPolicy { MaxAttempts = 3, InitialDelay = TimeSpan.FromHours(1), MaxDelay = TimeSpan.FromHours(1), Jitter = 0 };
        var host = Host(policy, unloadThreshold: TimeSpan.FromSeconds(30));
        var started = Clock.GetUtcNow();
        await host.Get<FlakyClient>().StartAsync("charge", "retry-5");

        // The backoff is a journaled wait like a timer: the run is released with its wake time and holds nothing.
        Assert.Equal(ExecutionOutcome.Unloaded, (await host.Engine.ExecuteAsync("retry-5").WaitAsync(Wait.Timeout)).Outcome);
        Assert.Equal(started.AddHours(1), (await host.Store.GetRunAsync("retry-5", default))!.WakeAt);

        // A restarted worker that claims it early replays to the backoff and unloads it again, running nothing.
        var restarted = Host(policy, unloadThreshold: TimeSpan.FromSeconds(30), workerName: "restarted");
        Clock.Advance(TimeSpan.FromMinutes(30));
        Assert.Equal(ExecutionOutcome.Unloaded, (await restarted.Engine.ExecuteAsync("retry-5").WaitAsync(Wait.Timeout)).Outcome);
        Assert.Equal(started.AddHours(1), (await restarted.Store.GetRunAsync("retry-5", default))!.WakeAt);
        Assert.Equal(1, _log.Count("Call"));

        Clock.Advance(TimeSpan.FromMinutes(30));
        Assert.Equal(WorkflowStatus.Completed, (await restarted.Engine.ExecuteAsync("retry-5").WaitAsync(Wait.Timeout)).Status);
        Assert.Equal("charge ok after 2", await restarted.Client.WaitForResultAsync<string>("retry-5"));
        Assert.Equal([1, 2], _log.Runs.Select(r => r.Attempt));
    }

    [Fact]
    public async Task A_cancel_during_a_backoff_ends_the_run_without_another_attempt()
    {
        _plan.FailureOf = _ => new TimeoutException("busy");
        var host = Host(new RetryPolicy { MaxAttempts = 5, InitialDelay = TimeSpan.FromSeconds(10), Jitter = 0 });
        await host.Get<FlakyClient>().StartAsync("charge", "retry-6");
        var execution = host.Engine.ExecuteAsync("retry-6");
        await RowWhenAsync(host, "retry-6", r => r.RetryAt is not null);

        Assert.Equal(CancelResult.Requested, await host.Client.CancelAsync("retry-6", "stop retrying"));

        Assert.Equal(WorkflowStatus.Cancelled, (await execution.WaitAsync(Wait.Timeout)).Status);
        Assert.Equal(1, _log.Count("Call"));
    }

    [Fact]
    public async Task The_attribute_s_settings_override_the_workflow_wide_default()
    {
        // The default allows one attempt; the attribute allows three, for timeouts only.
        var host = Host(RetryPolicy.None);
        await host.Get<AttributeRetriedClient>().StartAsync("charge", "retry-7");
        Assert.Equal(WorkflowStatus.Completed, (await host.Engine.ExecuteAsync("retry-7").WaitAsync(Wait.Timeout)).Status);
        Assert.Equal("gave up: System.TimeoutException: attempt 3 timed out", await host.Client.WaitForResultAsync<string>("retry-7"));
        Assert.Equal([1, 2, 3], _log.Runs.Select(r => r.Attempt));

        _plan.FailureOf = attempt => attempt == 1 ? new ArgumentException("not a timeout") : null;
        await host.Get<AttributeRetriedClient>().StartAsync("charge", "retry-8");
        Assert.Equal(WorkflowStatus.Completed, (await host.Engine.ExecuteAsync("retry-8").WaitAsync(Wait.Timeout)).Status);
        Assert.Equal("gave up: System.ArgumentException: not a timeout", await host.Client.WaitForResultAsync<string>("retry-8"));
    }

    [Fact]
    public void Policies_give_growing_delays_within_the_jitter_bounds_and_refuse_bad_values_by_name()
    {
        var policy = new RetryPolicy { InitialDelay = TimeSpan.FromSeconds(1), BackoffCoefficient = 3, MaxDelay = TimeSpan.FromSeconds(60), Jitter = 0.25 };
        Assert.Equal([1, 3, 9, 27, 60, 60], Enumerable.Range(1, 6).Select(n => policy.BaseDelay(n).TotalSeconds));
        var random = new Random(7);
        for (var n = 1; n <= 6; n++)
        {
            for (var i = 0; i < 200; i++)
            {
                Assert.InRange(policy.Delay(n, random.NextDouble()), policy.BaseDelay(n) * 0.75, policy.BaseDelay(n));
            }
        }

        Assert.Equal(TimeSpan.FromSeconds(60), policy.BaseDelay(int.MaxValue));
        Assert.True(policy.IsRetryable(new TimeoutException()));
        Assert.False((policy with { DoNotRetryOn = [typeof(SystemException)] }).IsRetryable(new TimeoutException()));
        Assert.False((policy with { RetryOn = [typeof(IOException)] }).IsRetryable(new TimeoutException()));
        Assert.True((policy with { RetryOn = [typeof(IOException)] }).IsRetryable(new FileNotFoundException()));

        foreach (var (bad, named) in new (RetryPolicy, string)[]
        {
            (policy with { MaxAttempts = 0 }, "MaxAttempts = 0; it must be at least 1"),
            (policy with { InitialDelay = TimeSpan.FromSeconds(-1) }, "InitialDelay = -00:00:01; it must be zero or more"),
            (policy with { BackoffCoefficient = 0.5 }, "BackoffCoefficient = 0.5"),
            (policy with { BackoffCoefficient = double.NaN }, "BackoffCoefficient = NaN"),
            (policy with { MaxDelay = TimeSpan.FromMilliseconds(1) }, "MaxDelay = 00:00:00.0010000; it must be at least InitialDelay (00:00:01)"),
            (policy with { Jitter = 1.5 }, "Jitter = 1.5; it must be between 0 and 1"),
            (policy with { RetryOn = [typeof(string)] }, "RetryOn = System.String; it must be exception types"),
        })
        {
            var error = Assert.Throws<ArgumentException>(() => bad.Validate("step 'Charge'"));
            Assert.Contains($"The retry policy of step 'Charge' has {named}", error.Message, StringComparison.Ordinal);
        }

        var options = new DurableOptions { DefaultRetryPolicy = policy with { MaxAttempts = -3 } };
        Assert.Contains("DurableOptions.DefaultRetryPolicy has MaxAttempts = -3", Assert.Throws<ArgumentException>(options.Validate).Message, StringComparison.Ordinal);
    }

    private async Task<JournalEntry> RowWhenAsync(TestHost host, string workflowId, Func<JournalEntry, bool> condition)
    {
        JournalEntry? row = null;
        await Wait.UntilAsync(async () => (row = (await host.Store.LoadAsync(workflowId, default))!.Journal.SingleOrDefault()) is { } r && condition(r), "the journal row never reached the expected state");
        return row!;
    }
}

public sealed class InMemoryRetryTests : RetryTests
{
    private protected override TestStorage CreateStorage() => TestStorage.InMemory(Clock);
}

public sealed class SqliteRetryTests : RetryTests
{
    private protected override TestStorage CreateStorage() => TestStorage.Sqlite(Clock);
}

public sealed class PostgresRetryTests(PostgresDatabase database) : RetryTests, IClassFixture<PostgresDatabase>
{
    private protected override TestStorage CreateStorage() => TestStorage.Postgres(database, Clock, "retry");
}
