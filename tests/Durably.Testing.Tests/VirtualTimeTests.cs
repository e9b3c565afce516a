using Durably.Runtime;

namespace Durably.Testing.Tests;

public sealed class VirtualTimeTests
{
    private static readonly DateTimeOffset s_start = new DurableTestHostOptions().StartTime;

    [Fact]
    public async Task A_thirty_day_sleep_passes_at_once_and_wakes_at_its_exact_time()
    {
        await using var host = await DurableTestHost.StartAsync(w => w.AddWorkflow<LongSleep>());

        var woke = await host.RunToCompletionAsync<LongSleepClient, DateTimeOffset>(client => client.StartAsync(30));

        Assert.Equal(s_start + TimeSpan.FromDays(30), woke);
        // The sleep is one move (the wait is unloaded, and the worker sleeps until it falls due); nothing else polls.
        Assert.InRange(host.Time.Moves, 1, 3);
    }

    [Fact]
    public async Task A_thirty_day_sleep_on_sqlite_wakes_at_its_exact_time_too()
    {
        var path = Path.Combine(Path.GetTempPath(), $"durably-kit-{Guid.NewGuid():N}.db");
        try
        {
            await using var host = await DurableTestHost.StartAsync(w => w.AddWorkflow<LongSleep>(), configure: o => o.UseSqlite(path));
            Assert.Equal(s_start + TimeSpan.FromDays(30), await host.RunToCompletionAsync<LongSleepClient, DateTimeOffset>(client => client.StartAsync(30)));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Six_attempts_an_hour_apart_pass_at_once_each_at_its_time()
    {
        await using var host = await DurableTestHost.StartAsync(w => w.AddWorkflow<Flaky>());
        var key = Guid.NewGuid().ToString("N");

        Assert.Equal(6, await host.RunToCompletionAsync<FlakyClient, int>(client => client.StartAsync(key)));

        Assert.Equal(6, Flaky.Attempts[key]);
        // Five backoffs of exactly an hour (no jitter), and nothing more.
        Assert.Equal(s_start + TimeSpan.FromHours(5), host.Time.GetUtcNow());
    }

    [Fact]
    public async Task A_two_day_signal_timeout_passes_at_once()
    {
        await using var host = await DurableTestHost.StartAsync(w => w.AddWorkflow<Contract>());

        var outcome = await host.RunToCompletionAsync<ContractClient, string>(client => client.StartAsync(2));

        Assert.Equal($"expired at {s_start + TimeSpan.FromDays(2):O}", outcome);
    }

    [Fact]
    public async Task A_circuit_breaker_s_cooldown_passes_at_once()
    {
        await using var host = await DurableTestHost.StartAsync(
            w => w.AddWorkflow<Guarded>(),
            configure: o => o.ConfigureEngine(e => e.CircuitBreakers["remote"] = new CircuitBreakerPolicy { MinimumThroughput = 2, BreakDuration = TimeSpan.FromHours(1) }));
        var key = Guid.NewGuid().ToString("N");

        Assert.Equal(3, await host.RunToCompletionAsync<GuardedClient, int>(client => client.StartAsync(key)));

        var calls = Guarded.Calls[key];
        Assert.Equal([s_start, s_start + TimeSpan.FromSeconds(1)], calls.Take(2));
        // The breaker opened at the second failure and let the third call through an hour later, not a second later.
        Assert.Equal(s_start + TimeSpan.FromSeconds(1) + TimeSpan.FromHours(1), calls[2]);
    }

    [Fact]
    public async Task Concurrent_runs_each_wake_at_their_own_time()
    {
        await using var host = await DurableTestHost.StartAsync(w => w.AddWorkflow<LongSleep>().AddWorkflow<Flaky>());
        var key = Guid.NewGuid().ToString("N");

        var sleepers = Enumerable.Range(1, 6).Select(i => host.RunToCompletionAsync<LongSleepClient, DateTimeOffset>(client => client.StartAsync(i * 3))).ToArray();
        var flaky = host.RunToCompletionAsync<FlakyClient, int>(client => client.StartAsync(key));

        var woke = await Task.WhenAll(sleepers);
        Assert.Equal(Enumerable.Range(1, 6).Select(i => s_start + TimeSpan.FromDays(i * 3)), woke);
        Assert.Equal(6, await flaky);
    }

    [Fact]
    public async Task A_signal_before_the_deadline_wins_and_one_after_it_loses()
    {
        await using var host = await DurableTestHost.StartAsync(w => w.AddWorkflow<Contract>(), configure: o => o.AutoSkipTime = false);
        var client = host.GetRequiredService<ContractClient>();

        // Signed a day in, a day before the deadline.
        var early = await client.StartAsync(2, "early");
        await Runs.WaitForSignalWaitAsync(host, "early", "Signature");
        host.Time.Advance(TimeSpan.FromDays(1));
        await client.SignalSignatureAsync("early", "Ann");
        Assert.Equal($"signed by Ann at {s_start + TimeSpan.FromDays(1):O}", await host.WaitForResultAsync(early));

        // The clock reaches the deadline first: the timeout fires as it passes, and the late signal changes nothing.
        var late = await client.StartAsync(2, "late");
        await Runs.WaitForSignalWaitAsync(host, "late", "Signature");
        host.Time.Advance(TimeSpan.FromDays(2));
        await client.SignalSignatureAsync("late", "Bob");
        Assert.Equal($"expired at {s_start + TimeSpan.FromDays(3):O}", await host.WaitForResultAsync(late));
    }

    [Fact]
    public async Task With_auto_skip_off_time_moves_only_by_hand()
    {
        await using var host = await DurableTestHost.StartAsync(w => w.AddWorkflow<LongSleep>(), configure: o => o.AutoSkipTime = false);
        var handle = await host.GetRequiredService<LongSleepClient>().StartAsync(2, "sleeper");

        await Assert.ThrowsAsync<DurableTestTimeoutException>(() => host.WaitForResultAsync(handle, TimeSpan.FromMilliseconds(300)));
        Assert.Equal(s_start, host.Time.GetUtcNow());

        host.Time.Advance(TimeSpan.FromDays(2));
        Assert.Equal(s_start + TimeSpan.FromDays(2), await host.WaitForResultAsync(handle));
        Assert.Throws<ArgumentOutOfRangeException>(() => host.Time.Advance(TimeSpan.FromSeconds(-1)));
    }

    [Fact]
    public async Task Auto_skip_can_be_turned_on_for_one_wait()
    {
        await using var host = await DurableTestHost.StartAsync(w => w.AddWorkflow<LongSleep>(), configure: o => o.AutoSkipTime = false);
        var handle = await host.GetRequiredService<LongSleepClient>().StartAsync(4);

        host.AutoSkipTime = true;

        Assert.Equal(s_start + TimeSpan.FromDays(4), await host.WaitForResultAsync(handle));
    }

    [Fact]
    public async Task Hosts_in_parallel_keep_their_own_clocks()
    {
        await using var sleeping = await DurableTestHost.StartAsync(w => w.AddWorkflow<LongSleep>());
        await using var still = await DurableTestHost.StartAsync(w => w.AddWorkflow<LongSleep>(), configure: o => o.AutoSkipTime = false);
        await using var other = await DurableTestHost.StartAsync(w => w.AddWorkflow<LongSleep>(), configure: o => o.StartTime = s_start.AddYears(1));
        var stillRun = await still.GetRequiredService<LongSleepClient>().StartAsync(1);

        var woke = await Task.WhenAll(
            sleeping.RunToCompletionAsync<LongSleepClient, DateTimeOffset>(client => client.StartAsync(10)),
            other.RunToCompletionAsync<LongSleepClient, DateTimeOffset>(client => client.StartAsync(5)));

        Assert.Equal([s_start + TimeSpan.FromDays(10), s_start.AddYears(1) + TimeSpan.FromDays(5)], woke);
        Assert.Equal(s_start, still.Time.GetUtcNow());
        Assert.Equal("Running", (await still.Client.GetRunAsync(stillRun.WorkflowId))!.Status.ToString());
    }

    [Fact]
    public void A_timer_fires_at_its_time_in_order_and_can_be_changed_or_stopped()
    {
        var time = new VirtualTime(s_start);
        var fired = new List<(string, DateTimeOffset)>();
        using var late = time.CreateTimer(_ => fired.Add(("late", time.GetUtcNow())), null, TimeSpan.FromMinutes(150), Timeout.InfiniteTimeSpan);
        using var early = time.CreateTimer(_ => fired.Add(("early", time.GetUtcNow())), null, TimeSpan.FromHours(1), TimeSpan.FromHours(1));
        using var stopped = time.CreateTimer(_ => fired.Add(("stopped", time.GetUtcNow())), null, TimeSpan.FromMinutes(1), Timeout.InfiniteTimeSpan);
        stopped.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

        Assert.Equal(s_start + TimeSpan.FromMinutes(60), time.NextDue);
        time.Advance(TimeSpan.FromHours(3));

        Assert.Equal([("early", s_start.AddHours(1)), ("early", s_start.AddHours(2)), ("late", s_start.AddMinutes(150)), ("early", s_start.AddHours(3))], fired);
        Assert.Equal(s_start.AddHours(3), time.GetUtcNow());
        Assert.Throws<ArgumentOutOfRangeException>(() => time.CreateTimer(_ => { }, null, TimeSpan.FromSeconds(-2), Timeout.InfiniteTimeSpan));
        Assert.Throws<ArgumentNullException>(() => time.CreateTimer(null!, null, TimeSpan.Zero, Timeout.InfiniteTimeSpan));
    }
}
