using Durably.Runtime.Journal;
using Durably.Runtime.Stores;
using Durably.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime.Tests.Stores.Postgres;

/// <summary>Worker leases judged by the database clock, takeover, fencing and reclaim on PostgreSQL (DESIGN §4).</summary>
public sealed class PostgresLeaseTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    // Twice the usual wait: these tests stop, restart and starve a real database server.
    private static readonly TimeSpan s_timeout = Wait.Timeout * 2;
    private readonly string _schema = "lease_" + Guid.NewGuid().ToString("N")[..12];

    private PostgresWorkflowStore OpenStore(TimeProvider? clock = null)
        => PostgresWorkflowStore.Open(database.ConnectionString, new PostgresStoreOptions { Schema = _schema }, clock);

    [Fact]
    public async Task A_worker_stalled_past_its_lease_cannot_write_a_journal_row_for_a_run_another_worker_took_over()
    {
        // Worker A's clock stands still, so its heartbeat never fires: it stalls past its one-second lease mid-step.
        var frozen = new ManualTimeProvider(DateTimeOffset.UtcNow);
        var stalledGate = new Gate();
        var stalledLog = new BodyLog();
        await using var stalled = new TestHost(OpenStore(frozen), d => d.AddWorkflow<FiveSteps>(),
            s => s.AddSingleton<TimeProvider>(frozen).AddSingleton(stalledLog).AddSingleton(stalledGate), workerName: "stalled",
            options: o => o.LeaseDuration = TimeSpan.FromSeconds(1));
        await stalled.Get<FiveStepsClient>().StartAsync("order-1", "fenced-1");
        var stalledExecution = stalled.Engine.ExecuteAsync("fenced-1");
        await stalledGate.Arrived.WaitAsync(s_timeout);

        // Worker B, on the real clock, takes the run over once A's lease has expired by the database clock, and finishes it.
        var takeoverLog = new BodyLog();
        await using var takeover = new TestHost(OpenStore(), d => d.AddWorkflow<FiveSteps>(),
            s => s.AddSingleton(takeoverLog).AddSingleton(Gate.Open()), workerName: "takeover", options: o => o.LeaseDuration = TimeSpan.FromSeconds(30));
        ExecutionResult taken;
        while ((taken = await takeover.Engine.ExecuteAsync("fenced-1").WaitAsync(s_timeout)).Outcome == ExecutionOutcome.NotClaimed)
        {
            await Task.Delay(100);
        }

        Assert.Equal(ExecutionOutcome.Finished, taken.Outcome);
        var finished = (await takeover.Store.LoadAsync("fenced-1", default))!;

        // A wakes up and finishes its step body: its journal write is fenced, changes nothing, and A abandons the run.
        stalledGate.Release();
        var late = await stalledExecution.WaitAsync(s_timeout);

        Assert.Equal(ExecutionOutcome.Fenced, late.Outcome);
        var after = (await takeover.Store.LoadAsync("fenced-1", default))!;
        Assert.Equal(finished.Journal, after.Journal);
        Assert.Equal(WorkflowStatus.Completed, after.Run.Status);
        Assert.Equal(5, after.Journal.Count(e => e.State == JournalEntryState.Completed));
        Assert.Equal([0L, 1, 2, 3], stalledLog.Runs.Select(r => r.Sequence));
        Assert.Equal([3L, 4], takeoverLog.Runs.Select(r => r.Sequence));
        Assert.Equal(stalledLog.Runs[3].IdempotencyKey, takeoverLog.Runs[0].IdempotencyKey);
    }

    [Fact]
    public async Task A_restarted_worker_with_the_same_name_reclaims_its_runs_at_once_while_other_workers_wait_for_the_lease()
    {
        var hour = TimeSpan.FromHours(1);
        await using var before = OpenStore();
        await before.CreateRunAsync(NewRun("reclaim-1"), default);
        var old = (await before.TryClaimAsync("reclaim-1", "worker-7", hour, default))!;

        await using var other = OpenStore();
        await using var restarted = OpenStore();

        Assert.Null(await other.TryClaimAsync("reclaim-1", "worker-8", hour, default));
        Assert.DoesNotContain("reclaim-1", await other.ListClaimableAsync("worker-8", null, 10, default));
        Assert.Contains("reclaim-1", await restarted.ListClaimableAsync("worker-7", null, 10, default));
        var reclaimed = (await restarted.TryClaimAsync("reclaim-1", "worker-7", hour, default))!;
        Assert.True(reclaimed.Epoch > old.Epoch);
        Assert.True((await before.RecordAttemptAsync(old, Attempting("reclaim-1"), JournalDurability.Durable, default)).Fenced);
        Assert.NotEqual(Heartbeats.Current(old), await Heartbeats.HeldAsync(before, old, hour));
        Assert.Equal(Heartbeats.Current(reclaimed), await Heartbeats.HeldAsync(restarted, reclaimed, hour));

        // One workers row per process incarnation: the old and the restarted worker-7 are two rows.
        Assert.Equal(2L, await database.ScalarAsync($"SELECT count(*) FROM \"{_schema}\".workers WHERE name = 'worker-7'"));
    }

    [Fact]
    public async Task Leases_are_judged_by_the_database_clock_and_renewed_by_the_workers_heartbeat()
    {
        // Eight seconds: a 2-core CI machine under the whole suite's load (helper processes of the kill tests beside it)
        // has stalled this loop for more than two, and once for more than four — a stall longer than the lease loses it.
        var lease = TimeSpan.FromSeconds(8);
        await using var store = OpenStore();
        await store.CreateRunAsync(NewRun("heartbeat-1"), default);
        var held = (await store.TryClaimAsync("heartbeat-1", "beating", lease, default))!;
        var expiresAt = (await store.GetRunAsync("heartbeat-1", default))!.LeaseExpiresAt!.Value;
        var databaseNow = (DateTime)(await database.ScalarAsync("SELECT now()"))!;
        Assert.InRange(expiresAt - new DateTimeOffset(databaseNow, TimeSpan.Zero), TimeSpan.FromSeconds(1), lease + TimeSpan.FromSeconds(1));

        // Renewing keeps the lease ahead of the database clock for longer than one lease lasts.
        await using var rival = OpenStore();
        var until = DateTime.UtcNow + lease + TimeSpan.FromSeconds(1);
        while (DateTime.UtcNow < until)
        {
            Assert.Equal(Heartbeats.Current(held), await Heartbeats.HeldAsync(store, held, lease));
            Assert.Null(await rival.TryClaimAsync("heartbeat-1", "rival", lease, default));
            await Task.Delay(200);
        }

        Assert.True((await store.GetRunAsync("heartbeat-1", default))!.LeaseExpiresAt > expiresAt);

        // Without a heartbeat the lease runs out by the database clock and the rival takes the run.
        RunLease? taken = null;
        for (var tries = 0; taken is null && tries < 150; tries++)
        {
            await Task.Delay(100);
            taken = await rival.TryClaimAsync("heartbeat-1", "rival", lease, default);
        }

        Assert.NotNull(taken);
        Assert.NotEqual(Heartbeats.Current(held), await Heartbeats.HeldAsync(store, held, lease));
    }

    [Fact]
    public async Task Claims_in_a_row_write_the_worker_row_only_once_a_quarter_of_its_lease_has_gone()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow);
        await using var store = OpenStore(clock);
        var lease = TimeSpan.FromSeconds(40);
        async Task<DateTime> HeartbeatAsync() => (DateTime)(await database.ScalarAsync($"SELECT heartbeat_at FROM \"{_schema}\".workers WHERE name = 'busy'"))!;

        await store.ClaimRunsAsync("busy", null, [], 1, lease, default);
        var first = await HeartbeatAsync();
        for (var i = 0; i < 5; i++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            await store.ClaimRunsAsync("busy", null, [], 1, lease, default);
        }

        // Five claims within a quarter of the lease: the row was written once, not six times.
        Assert.Equal(first, await HeartbeatAsync());

        // Less than three quarters left: the next claim renews it.
        clock.Advance(TimeSpan.FromSeconds(6));
        await store.ClaimRunsAsync("busy", null, [], 1, lease, default);
        Assert.InRange((await HeartbeatAsync() - first).TotalSeconds, 10, 13);
    }

    private static RunRecord NewRun(string id)
        => new(id, "Orders", 1, "{}", WorkflowStatus.Running, null, null, null, 0, null, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch);

    private static JournalEntry Attempting(string id)
        => new(id, 0, "Charge", OperationKind.Step, JournalEntryState.Attempting, "{}", null, null, 1, null, DateTimeOffset.UnixEpoch, null);
}
