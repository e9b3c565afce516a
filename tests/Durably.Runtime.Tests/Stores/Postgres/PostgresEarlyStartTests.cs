using Durably.Runtime.Journal;
using Durably.Runtime.Stores;
using Durably.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Durably.Runtime.Tests.Stores.Postgres;

/// <summary>
/// Early starts on PostgreSQL: a run this process's worker holds is created with a commit that does not wait for the
/// flush and begins at once; <c>StartAsync</c> returns only once a barrier has made the start durable.
/// </summary>
public sealed class PostgresEarlyStartTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    private readonly string _schema = "early_" + Guid.NewGuid().ToString("N")[..12];

    private PostgresWorkflowStore OpenStore() => PostgresWorkflowStore.Open(database.ConnectionString, new PostgresStoreOptions { Schema = _schema });

    private static RunRecord Held(string id, string input = "1") =>
        RunRecord.Started(id, "Held", 1, input, DateTimeOffset.UtcNow) with { Owner = "w", Epoch = 1, LeaseExpiresAt = DateTimeOffset.UtcNow.AddMinutes(1) };

    [Fact]
    public async Task An_early_start_creates_the_run_as_a_start_does_and_its_barrier_finds_it()
    {
        await using var store = OpenStore();

        var (run, created) = await store.CreateRunEarlyAsync(Held("early-1"), default);
        var (again, createdAgain) = await store.CreateRunEarlyAsync(Held("early-1", "2"), default);

        Assert.True(created);
        Assert.Equal(("early-1", "w", 1L), (run.WorkflowId, run.Owner, run.Epoch));
        Assert.False(createdAgain);
        Assert.Equal("1", again.InputJson);
        Assert.True(await store.EnsureStartDurableAsync("early-1", default));
        Assert.Equal(("w", WorkflowStatus.Running), (await store.GetRunAsync("early-1", default)) is { } stored ? (stored.Owner, stored.Status) : default);
    }

    [Fact]
    public async Task A_barrier_reports_a_start_the_database_lost()
    {
        await using var store = OpenStore();
        await store.CreateRunEarlyAsync(Held("early-lost"), default);

        // As if the server had restarted before flushing the start: the row is gone.
        await database.ScalarAsync($"DELETE FROM \"{_schema}\".runs WHERE workflow_id = 'early-lost'");

        Assert.False(await store.EnsureStartDurableAsync("early-lost", default));
        Assert.False(await store.EnsureStartDurableAsync("never-started", default));
    }

    [Fact]
    public async Task Only_a_held_run_starts_early_and_a_barrier_needs_an_id()
    {
        await using var store = OpenStore();

        var unowned = await Assert.ThrowsAsync<ArgumentException>(() => store.CreateRunEarlyAsync(RunRecord.Started("early-unowned", "Held", 1, "1", DateTimeOffset.UtcNow), default));
        await Assert.ThrowsAsync<ArgumentException>(() => store.EnsureStartDurableAsync("", default));
        await Assert.ThrowsAsync<ArgumentNullException>(() => store.CreateRunEarlyAsync(null!, default));

        Assert.Contains("'early-unowned'", unowned.Message, StringComparison.Ordinal);
        Assert.Null(await store.GetRunAsync("early-unowned", default));
    }

    /// <summary>
    /// The guarantee: a run whose <c>StartAsync</c> returned survives a crash of the database server. The runs wait at
    /// the gate from their first step, so nothing but the barrier flushes their starts; runs without a step are written
    /// once, already ended. The server is killed the moment the last start returns (an immediate stop loses what its WAL
    /// buffers held).
    /// </summary>
    [Fact]
    public async Task A_run_whose_start_returned_survives_a_crash_of_the_database_server()
    {
        const int runs = 40;
        var server = PostgresServer.StartDedicated();
        try
        {
            var connection = new NpgsqlConnectionStringBuilder(server.AdminConnectionString) { Pooling = true }.ConnectionString;
            var gate = new Gate();
            var store = PostgresWorkflowStore.Open(connection, new PostgresStoreOptions { Schema = "early", RetryBudget = TimeSpan.FromSeconds(60) });
            await using (var host = new TestHost(store, d => d.AddWorkflow<HeldFromStart>().AddWorkflow<NoSteps>(), s => s.AddSingleton(gate), options: o => o.MaxConcurrentRuns = runs * 2))
            {
                await host.Worker.StartAsync(default);
                await Wait.UntilAsync(() => host.Engine.Context.LocalRunner is not null, "the worker never made its first claim");
                var client = host.Get<HeldFromStartClient>();
                var ended = host.Get<NoStepsClient>();
                for (var i = 0; i < runs; i++)
                {
                    await client.StartAsync($"order-{i}", $"early-{i}");
                    await ended.StartAsync($"order-{i}", $"ended-{i}");
                }

                server.Crash();
                server.StartAgain();

                await using var reopened = PostgresWorkflowStore.Open(connection, new PostgresStoreOptions { Schema = "early" });
                var missing = new List<string>();
                for (var i = 0; i < runs; i++)
                {
                    if (await reopened.GetRunAsync($"early-{i}", default) is null)
                    {
                        missing.Add($"early-{i}");
                    }

                    if (await reopened.GetRunAsync($"ended-{i}", default) is not { Status: WorkflowStatus.Completed })
                    {
                        missing.Add($"ended-{i} (ended)");
                    }
                }

                Assert.True(missing.Count == 0, $"started, then lost in the crash: {string.Join(", ", missing)}");
                gate.Release();
                await host.Worker.StopAsync(default);
            }
        }
        finally
        {
            server.Remove();
        }
    }

    /// <summary>
    /// A second start of the same run, while the first is started early and not yet durable, does not return first: a
    /// start returns only once the run it answers with is on disk.
    /// </summary>
    [Fact]
    public async Task A_second_start_of_a_run_whose_early_start_is_not_yet_durable_returns_only_once_it_is()
    {
        var store = OpenStore();
        await using var host = new TestHost(store, d => d.AddWorkflow<FiveSteps>(), s => s.AddSingleton(new BodyLog()).AddSingleton(Gate.Open()),
            workerName: "twice", options: o => o.PollInterval = TimeSpan.FromHours(1));
        await store.CreateRunAsync(RunRecord.Started("blocker", "Other", 1, "{}", DateTimeOffset.UtcNow), default);
        var blocker = (await store.TryClaimAsync("blocker", "elsewhere", TimeSpan.FromMinutes(5), default))!;
        await host.Worker.StartAsync(default);
        try
        {
            await Wait.UntilAsync(() => host.Engine.Context.LocalRunner is not null, "the worker never made its first claim");
            var client = host.Get<FiveStepsClient>();

            // Every durable write of the store waits behind one held at the server: the early start cannot become durable.
            await using var held = await database.HoldRunAsync(_schema, "blocker");

            var blocked = store.RecordAttemptAsync(blocker, JournalEntry.Attempting("blocker", 0, "Hold", OperationKind.Step, "{}", DateTimeOffset.UtcNow) with { Attempts = 1 },
                JournalDurability.Durable, default);
            var first = client.StartAsync("order-1", "twice-1");
            await Wait.UntilAsync(async () => await database.ScalarAsync($"SELECT count(*) FROM \"{_schema}\".runs WHERE workflow_id = 'twice-1'") is 1L,
                "the first start never created its run");
            var second = client.StartAsync("order-1", "twice-1");

            // Both wait for the flush the held write keeps back (a short look: the point is what follows the release).
            await Task.Delay(TimeSpan.FromMilliseconds(300));
            Assert.False(first.IsCompleted, "the first start returned before its run was durable");
            Assert.False(second.IsCompleted, "the second start returned before the run it answers with was durable");

            await held.Transaction.CommitAsync();
            await blocked;
            var handles = await Task.WhenAll(first, second).WaitAsync(Wait.Timeout);
            Assert.All(handles, h => Assert.Equal("twice-1", h.WorkflowId));
            Assert.StartsWith("order-1-1-", await handles[1].WaitForResultAsync().WaitAsync(Wait.Timeout), StringComparison.Ordinal);
        }
        finally
        {
            await host.Worker.StopAsync(default);
        }
    }
}
