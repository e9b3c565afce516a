using Durably.Runtime.Journal;
using Durably.Runtime.Stores;
using Durably.Runtime.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime.Tests.Hosting;

public class DurableWorkerTests
{

    [Fact]
    public async Task The_worker_executes_started_runs_with_bounded_concurrency()
    {
        var concurrency = new Concurrency();
        await using var host = new TestHost(new InMemoryWorkflowStore(), d => d.AddWorkflow<SlowJob>(), s => s.AddSingleton(concurrency),
            options: o => o.MaxConcurrentRuns = 3);
        var client = host.Get<SlowJobClient>();
        var handles = new List<WorkflowHandle<int>>();
        for (var i = 0; i < 12; i++)
        {
            handles.Add(await client.StartAsync(i, $"job-{i}"));
        }

        await host.Worker.StartAsync(default);
        var results = await Task.WhenAll(handles.Select(h => h.WaitForResultAsync())).WaitAsync(Wait.Timeout);
        await host.Worker.StopAsync(default);

        Assert.Equal(Enumerable.Range(0, 12).Select(i => i * 10), results);
        Assert.InRange(concurrency.Max, 1, 3);
    }

    [Fact]
    public async Task Runs_started_while_the_worker_idles_are_picked_up_without_waiting_for_a_poll()
    {
        await using var host = new TestHost(new InMemoryWorkflowStore(), d => d.AddWorkflow<SlowJob>(), s => s.AddSingleton(new Concurrency()),
            options: o => o.PollInterval = TimeSpan.FromMinutes(10));
        await host.Worker.StartAsync(default);

        var handle = await host.Get<SlowJobClient>().StartAsync(4, "late-1");

        Assert.Equal(40, await handle.WaitForResultAsync().WaitAsync(Wait.Timeout));
        await host.Worker.StopAsync(default);
    }

    [Fact]
    public async Task Runs_started_beside_a_running_worker_are_created_held_by_it_while_it_has_free_slots_and_the_rest_wait_for_a_slot()
    {
        var gate = new Gate();
        await using var host = new TestHost(new InMemoryWorkflowStore(), d => d.AddWorkflow<FiveSteps>(), s => s.AddSingleton(new BodyLog()).AddSingleton(gate),
            options: o => (o.MaxConcurrentRuns, o.PollInterval) = (2, TimeSpan.FromMinutes(10)));
        await host.Worker.StartAsync(default);
        try
        {
            await Wait.UntilAsync(() => host.Engine.Context.LocalRunner is not null, "the worker never made its first claim");
            var client = host.Get<FiveStepsClient>();
            var handles = new List<WorkflowHandle<string>>();
            for (var i = 0; i < 3; i++)
            {
                handles.Add(await client.StartAsync($"order-{i}", $"beside-{i}"));
            }

            // Two slots: the first two runs were created held by the worker (epoch 1, no claim); the third waits, unowned.
            await gate.Arrived.WaitAsync(Wait.Timeout);
            Assert.Equal(("test-worker", 1L), ((await host.Store.GetRunAsync("beside-0", default))!.Owner, (await host.Store.GetRunAsync("beside-0", default))!.Epoch));
            Assert.Equal(("test-worker", 1L), ((await host.Store.GetRunAsync("beside-1", default))!.Owner, (await host.Store.GetRunAsync("beside-1", default))!.Epoch));
            Assert.Equal((null, 0L), ((await host.Store.GetRunAsync("beside-2", default))!.Owner, (await host.Store.GetRunAsync("beside-2", default))!.Epoch));
            Assert.Equal(2, host.Worker.RunsInProgress);

            // A freed slot takes it at once (the poll is ten minutes away).
            gate.Release();
            var results = await Task.WhenAll(handles.Select(h => h.WaitForResultAsync())).WaitAsync(Wait.Timeout);
            Assert.All(results, r => Assert.StartsWith("order-", r, StringComparison.Ordinal));
            // Waiting for a run that has ended reads it and leaves nothing behind, as does every wait above.
            Assert.Equal(results[0], await handles[0].WaitForResultAsync());
            Assert.Equal(0, host.Engine.Context.RunsWaitedFor);

            // A start with an id already used creates nothing and gives its slot back.
            await client.StartAsync("order-0", "beside-0");
            Assert.Equal(0, host.Worker.RunsInProgress);
        }
        finally
        {
            await host.Worker.StopAsync(default);
        }

        // A stopped worker takes no starts: the run is created unowned, for whichever worker comes.
        Assert.Null(host.Engine.Context.LocalRunner);
        await host.Get<FiveStepsClient>().StartAsync("order-9", "after-stop");
        Assert.Null((await host.Store.GetRunAsync("after-stop", default))!.Owner);
    }

    [Fact]
    public async Task A_restarted_worker_with_the_same_name_takes_its_runs_back_at_once_and_others_wait_for_the_lease()
    {
        var store = new InMemoryWorkflowStore();
        await using (var setup = new TestHost(store, d => d.AddWorkflow<SlowJob>(), s => s.AddSingleton(new Concurrency())))
        {
            await setup.Get<SlowJobClient>().StartAsync(7, "orphan-1");
        }

        // The previous incarnation of worker-a claimed the run and died: its lease has ten minutes to run.
        Assert.NotNull(await store.TryClaimAsync("orphan-1", "worker-a", TimeSpan.FromMinutes(10), default));

        await using (var stranger = new TestHost(store, d => d.AddWorkflow<SlowJob>(), s => s.AddSingleton(new Concurrency()), workerName: "worker-b",
            options: o => o.PollInterval = TimeSpan.FromMilliseconds(20)))
        {
            await stranger.Worker.StartAsync(default);
            await Task.Delay(200);
            await stranger.Worker.StopAsync(default);
            var run = (await store.GetRunAsync("orphan-1", default))!;
            Assert.Equal(WorkflowStatus.Running, run.Status);
            Assert.Equal("worker-a", run.Owner);
        }

        await using var restarted = new TestHost(store, d => d.AddWorkflow<SlowJob>(), s => s.AddSingleton(new Concurrency()), workerName: "worker-a");
        await restarted.Worker.StartAsync(default);

        Assert.Equal(70, await restarted.Client.WaitForResultAsync<int>("orphan-1").WaitAsync(Wait.Timeout));
        await restarted.Worker.StopAsync(default);
    }

    [Fact]
    public async Task An_idle_worker_wakes_when_another_workers_lease_expires_not_at_its_next_poll()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.Parse("2026-11-30T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var store = new InMemoryWorkflowStore(clock);
        await using (var setup = new TestHost(store, d => d.AddWorkflow<SlowJob>(), s => s.AddSingleton(new Concurrency()).AddSingleton<TimeProvider>(clock)))
        {
            await setup.Get<SlowJobClient>().StartAsync(3, "orphan-2");
        }

        // Another worker claimed the run and died: its lease has 30 s to run.
        Assert.NotNull(await store.TryClaimAsync("orphan-2", "dead-worker", TimeSpan.FromSeconds(30), default));
        var expiry = clock.GetUtcNow() + TimeSpan.FromSeconds(30);
        await using var rescuer = new TestHost(store, d => d.AddWorkflow<SlowJob>(), s => s.AddSingleton(new Concurrency()).AddSingleton<TimeProvider>(clock),
            workerName: "rescuer", options: o => o.PollInterval = TimeSpan.FromHours(1));
        await rescuer.Worker.StartAsync(default);

        // The rescuer sleeps until that lease ends — not for its hour-long poll interval — and then takes the run.
        await clock.ArmedForAsync(expiry);
        clock.Advance(TimeSpan.FromSeconds(30));

        Assert.Equal(30, await rescuer.Client.WaitForResultAsync<int>("orphan-2").WaitAsync(Wait.Timeout));
        await rescuer.Worker.StopAsync(default);
    }

    [Fact]
    public async Task Stopping_drains_then_releases_unfinished_runs_for_another_worker()
    {
        var store = new InMemoryWorkflowStore();
        var closed = new Gate();
        await using (var first = new TestHost(store, d => d.AddWorkflow<FiveSteps>(), s => s.AddSingleton(new BodyLog()).AddSingleton(closed),
            workerName: "first", options: o => o.ShutdownDrainTimeout = TimeSpan.FromMilliseconds(100)))
        {
            await first.Get<FiveStepsClient>().StartAsync("parcel", "drain-1");
            await first.Worker.StartAsync(default);
            await closed.Arrived.WaitAsync(Wait.Timeout);
            await first.Worker.StopAsync(default).WaitAsync(Wait.Timeout);
            Assert.Equal(0, first.Worker.RunsInProgress);
        }

        var released = (await store.LoadAsync("drain-1", default))!;
        Assert.Equal(WorkflowStatus.Running, released.Run.Status);
        Assert.Null(released.Run.Owner);
        Assert.Equal(3, released.Journal.Count(e => e.State == JournalEntryState.Completed));

        await using var second = new TestHost(store, d => d.AddWorkflow<FiveSteps>(), s => s.AddSingleton(new BodyLog()).AddSingleton(Gate.Open()), workerName: "second");
        await second.Worker.StartAsync(default);
        Assert.Equal(5, (await second.Client.WaitForResultAsync<string>("drain-1").WaitAsync(Wait.Timeout)).Split('|').Length);
        await second.Worker.StopAsync(default);
    }

    [Fact]
    public async Task The_lease_is_renewed_while_a_long_step_runs()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.Parse("2026-11-21T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var store = new InMemoryWorkflowStore(clock);
        var closed = new Gate();
        var lease = TimeSpan.FromSeconds(30);
        await using var host = new TestHost(store, d => d.AddWorkflow<FiveSteps>(),
            s => s.AddSingleton<TimeProvider>(clock).AddSingleton(new BodyLog()).AddSingleton(closed),
            options: o => o.LeaseDuration = lease);
        await host.Get<FiveStepsClient>().StartAsync("slow", "renew-1");
        using var stop = new CancellationTokenSource();
        var execution = host.Engine.ExecuteAsync("renew-1", stop.Token);
        await closed.Arrived.WaitAsync(Wait.Timeout);

        // Nine lease thirds pass (three whole leases) while step 4 waits: after each, the owner has renewed, and
        // another worker still cannot take the run.
        for (var i = 0; i < 9; i++)
        {
            await Wait.UntilAsync(() => clock.PendingTimers > 0, "the lease renewal timer was never armed");
            clock.Advance(lease / 3);
            var expected = clock.GetUtcNow() + lease;
            await Wait.UntilAsync(async () => (await store.GetRunAsync("renew-1", default))!.LeaseExpiresAt == expected, "the lease was never renewed");
            Assert.Null(await store.TryClaimAsync("renew-1", "intruder", lease, default));
        }

        await stop.CancelAsync();
        await execution.WaitAsync(Wait.Timeout);
    }

    [Fact]
    public async Task AddDurably_uses_a_SQLite_file_next_to_the_app_when_no_store_is_configured()
    {
        var services = new ServiceCollection();
        services.AddDurably().AddWorkflow<SlowJob>();
        services.AddSingleton(new Concurrency());
        await using var provider = services.BuildServiceProvider();

        var store = provider.GetRequiredService<IWorkflowStore>();
        try
        {
            var sqlite = Assert.IsType<SqliteWorkflowStore>(store);
            Assert.Equal(Path.Combine(AppContext.BaseDirectory, "durably.db"), sqlite.Path);
            Assert.True(File.Exists(sqlite.Path));
        }
        finally
        {
            (store as IDisposable)?.Dispose();
            SqliteConnection.ClearAllPools();
        }
    }
}
