using Durably.Runtime.Hosting;
using Durably.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Durably.Runtime.Tests.Hosting;

/// <summary>
/// Health checks and retention, unchanged on every store: the store check answers, the worker check follows the claim
/// loop (not started, going round, silent too long, ended), dead letters above the threshold degrade; retention purges
/// ended runs older than its period in batches, on its interval, and keeps running runs and dead letters.
/// </summary>
public abstract class HealthAndRetentionTests : StoreTestBase
{
    private readonly TripLog _trips = new();

    private TestHost Host(Action<DurableOptions>? options = null, Action<DurablyHealthCheckOptions>? health = null) => Track(new TestHost(
        OpenStore(), d => d.AddWorkflow<Trip>(),
        s =>
        {
            s.AddSingleton<TimeProvider>(Clock).AddSingleton(_trips);
            s.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance).AddSingleton(typeof(ILogger<>), typeof(Logger<>));
            s.AddHealthChecks().AddDurablyHealthChecks(health);
        },
        "health-worker",
        options));

    private async Task ParkAsync(TestHost host, string id)
    {
        _trips.BookFlight = (attempt, _) => throw new TimeoutException($"airline slow on attempt {attempt}");
        await host.Get<TripClient>().StartAsync("ada", id);
        Assert.Equal(WorkflowStatus.DeadLettered, (await host.Engine.ExecuteAsync(id).WaitAsync(Wait.Timeout)).Status);
    }

    private async Task CompleteAsync(TestHost host, string id)
    {
        _trips.BookFlight = (attempt, _) => Task.FromResult($"flight {attempt}");
        await host.Get<TripClient>().StartAsync("bob", id);
        Assert.Equal(WorkflowStatus.Completed, (await host.Engine.ExecuteAsync(id).WaitAsync(Wait.Timeout)).Status);
    }

    private static async Task<HealthReportEntry> CheckAsync(TestHost host, string name)
        => (await host.Get<HealthCheckService>().CheckHealthAsync(r => r.Name == name)).Entries[name];

    [Fact]
    public async Task The_checks_report_the_store_the_worker_loop_and_dead_letters_above_the_threshold()
    {
        var host = Host(o => o.PollInterval = TimeSpan.FromHours(1), h => { h.DeadLetterThreshold = 1; h.WorkerStalledAfter = TimeSpan.FromMinutes(1); });
        await ParkAsync(host, "health-1");

        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(host, "durably-store")).Status);
        var notStarted = await CheckAsync(host, "durably-worker");
        Assert.Equal((HealthStatus.Unhealthy, "Worker 'health-worker' has not started claiming runs yet."), (notStarted.Status, notStarted.Description));
        Assert.Equal((HealthStatus.Healthy, "1 dead-lettered run (threshold 1)."), await StatusOf("durably-dead-letters"));

        await ParkAsync(host, "health-2");
        var degraded = await CheckAsync(host, "durably-dead-letters");
        Assert.Equal((HealthStatus.Degraded, "2 dead-lettered runs wait for a person (threshold 1): Trip 2."), (degraded.Status, degraded.Description));
        Assert.Equal(2L, degraded.Data["deadLetters"]);
        Assert.Equal(["durably"], degraded.Tags);

        // The loop goes round, then waits its poll interval (an hour): after two silent minutes it is reported stalled.
        await host.Worker.StartAsync(CancellationToken.None);
        await Wait.UntilAsync(() => host.Worker.LastLoopAt is not null, "the worker's loop never went round");
        await UntilHealthyAsync(host, "the running worker was not reported healthy");
        Clock.Advance(TimeSpan.FromMinutes(2));
        var stalled = await CheckAsync(host, "durably-worker");
        Assert.Equal(HealthStatus.Unhealthy, stalled.Status);
        Assert.StartsWith("Worker 'health-worker' last went round 120 s ago", stalled.Description, StringComparison.Ordinal);

        // An hour on, the loop's wait is over. The loop may still have been finishing its round when the clock moved (its
        // wait then ends an hour after that): the clock moves on an hour more each time the check still finds it stalled.
        await UntilHealthyAsync(host, "the worker was not healthy again after its loop went round", advance: TimeSpan.FromHours(1));
        await host.Worker.StopAsync(CancellationToken.None);
        var stopped = await CheckAsync(host, "durably-worker");
        Assert.Equal((HealthStatus.Unhealthy, "Worker 'health-worker' has stopped claiming runs: its loop ended."), (stopped.Status, stopped.Description));

        async Task<(HealthStatus, string?)> StatusOf(string name) => (await CheckAsync(host, name)) is var e ? (e.Status, e.Description) : default;
    }

    /// <summary>
    /// Waits for the worker check to say Healthy, moving the clock on by <paramref name="advance"/> before each look while
    /// it does not; on a timeout, says what it said last and where the loop and the clock stand.
    /// </summary>
    private async Task UntilHealthyAsync(TestHost host, string because, TimeSpan? advance = null)
    {
        HealthReportEntry? last = null;
        try
        {
            await Wait.UntilAsync(async () =>
            {
                if (advance is { } by && last?.Status != HealthStatus.Healthy)
                {
                    Clock.Advance(by);
                }

                return (last = await CheckAsync(host, "durably-worker")).Value.Status == HealthStatus.Healthy;
            }, because);
        }
        catch (Xunit.Sdk.XunitException ex)
        {
            Assert.Fail($"{ex.Message} The check said {last?.Status}: {last?.Description}; the loop last went round at {host.Worker.LastLoopAt:O}, the clock is {Clock.GetUtcNow():O}, the loop ended: {host.Worker.HasLoopEnded}.");
        }
    }

    [Fact]
    public async Task Retention_purges_runs_that_ended_before_its_period_in_batches_and_keeps_the_rest()
    {
        var host = Host(o =>
        {
            o.Retention.Period = TimeSpan.FromDays(7);
            o.Retention.BatchSize = 2;
            o.Retention.Interval = TimeSpan.FromHours(1);
            o.Retention.BatchPause = TimeSpan.Zero;
        });
        for (var i = 0; i < 5; i++)
        {
            await CompleteAsync(host, $"old-{i}");
        }

        await ParkAsync(host, "old-parked");
        await host.Get<TripClient>().StartAsync("eve", "old-running");
        var retention = host.Get<IEnumerable<IHostedService>>().OfType<RetentionService>().Single();

        // The first look, at start-up, finds nothing old enough.
        await retention.StartAsync(CancellationToken.None);
        await Wait.UntilAsync(() => retention.Looks >= 1, "retention never looked");
        Assert.Equal(0, retention.Purged);

        Clock.Advance(TimeSpan.FromDays(6));
        await CompleteAsync(host, "recent");
        Clock.Advance(TimeSpan.FromDays(2));
        await Wait.UntilAsync(() => retention.Purged == 5, "retention did not purge the five old runs");
        await retention.StopAsync(CancellationToken.None);

        Assert.All(Enumerable.Range(0, 5), i => Assert.Null(host.Client.GetRunAsync($"old-{i}").Result));
        Assert.Equal(WorkflowStatus.DeadLettered, (await host.Client.GetRunAsync("old-parked"))!.Status);
        Assert.Equal(WorkflowStatus.Running, (await host.Client.GetRunAsync("old-running"))!.Status);
        Assert.Equal(WorkflowStatus.Completed, (await host.Client.GetRunAsync("recent"))!.Status);
    }

    [Fact]
    public async Task Without_a_period_retention_keeps_every_run_and_bad_settings_are_named()
    {
        var host = Host();
        await CompleteAsync(host, "kept");
        var retention = host.Get<IEnumerable<IHostedService>>().OfType<RetentionService>().Single();
        await retention.StartAsync(CancellationToken.None);
        Clock.Advance(TimeSpan.FromDays(3650));
        await retention.StopAsync(CancellationToken.None);

        Assert.Equal((0L, 0), (retention.Purged, retention.Looks));
        Assert.NotNull(await host.Client.GetRunAsync("kept"));
        Assert.Contains("Retention.Period must be positive", Assert.Throws<ArgumentOutOfRangeException>(() => new ServiceCollection().AddDurably(o => o.Retention.Period = TimeSpan.Zero)).Message, StringComparison.Ordinal);
        Assert.Contains("Retention.BatchSize must be 1 to 10,000; it is 0", Assert.Throws<ArgumentOutOfRangeException>(() => new ServiceCollection().AddDurably(o => o.Retention.BatchSize = 0)).Message, StringComparison.Ordinal);
        Assert.Contains("DeadLetterThreshold must be zero or more; it is -1",
            Assert.Throws<ArgumentOutOfRangeException>(() => new ServiceCollection().AddHealthChecks().AddDurablyHealthChecks(h => h.DeadLetterThreshold = -1)).Message, StringComparison.Ordinal);
    }
}

public sealed class InMemoryHealthAndRetentionTests : HealthAndRetentionTests
{
    private protected override TestStorage CreateStorage() => TestStorage.InMemory(Clock);
}

public sealed class SqliteHealthAndRetentionTests : HealthAndRetentionTests
{
    private protected override TestStorage CreateStorage() => TestStorage.Sqlite(Clock);
}

public sealed class PostgresHealthAndRetentionTests(PostgresDatabase database) : HealthAndRetentionTests, IClassFixture<PostgresDatabase>
{
    private protected override TestStorage CreateStorage() => TestStorage.Postgres(database, Clock, "health");

    [Fact]
    public async Task The_store_check_is_unhealthy_while_the_database_refuses_connections()
    {
        var host = Track(new TestHost(OpenStore(), d => d.AddWorkflow<Trip>(), s =>
        {
            s.AddSingleton<TimeProvider>(Clock).AddSingleton(new TripLog());
            s.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance).AddSingleton(typeof(ILogger<>), typeof(Logger<>));
            s.AddHealthChecks().AddDurablyHealthChecks(h => h.StoreTimeout = TimeSpan.FromSeconds(1));
        }));
        var health = host.Get<HealthCheckService>();
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync(r => r.Name == "durably-store")).Status);

        await database.AdminScalarAsync($"ALTER DATABASE \"{database.Name}\" ALLOW_CONNECTIONS false");
        await database.AdminScalarAsync($"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '{database.Name}' AND pid <> pg_backend_pid()");
        try
        {
            var entry = (await health.CheckHealthAsync(r => r.Name == "durably-store")).Entries["durably-store"];
            Assert.Equal(HealthStatus.Unhealthy, entry.Status);
            Assert.Matches("did not answer a read within 1 s|failed a read", entry.Description!);
        }
        finally
        {
            await database.AdminScalarAsync($"ALTER DATABASE \"{database.Name}\" ALLOW_CONNECTIONS true");
        }

        await Wait.UntilAsync(async () => (await health.CheckHealthAsync(r => r.Name == "durably-store")).Status == HealthStatus.Healthy, "the store check did not recover");
    }
}
