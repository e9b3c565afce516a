using Durably.Runtime.Journal;
using Durably.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime.Tests.Replay;

/// <summary>
/// Single-instance keys, unchanged on every store: at most one active run of a workflow holds a key; a second start
/// joins it or is refused; the key is free once the holder ends and passes to the run that continues it as new;
/// concurrent starts from two workers (two store connections) yield one run.
/// </summary>
public abstract class InstanceLockTests : StoreTestBase
{
    private readonly BodyLog _log = new();
    private readonly TripLog _trips = new();

    private TestHost Host(string worker = "lock-worker") => Track(new TestHost(
        OpenStore(), d => d.AddWorkflow<Patient>().AddWorkflow<Tally>().AddWorkflow<Trip>(),
        s => s.AddSingleton<TimeProvider>(Clock).AddSingleton(_log).AddSingleton(new Instances()).AddSingleton(_trips),
        worker,
        o => o.UnloadThreshold = Timeout.InfiniteTimeSpan));

    private static WorkflowStartOptions Key(string id, string key, ActiveInstanceBehavior ifActive = ActiveInstanceBehavior.Join)
        => new() { WorkflowId = id, InstanceKey = key, IfActive = ifActive };

    [Fact]
    public async Task A_second_start_while_the_key_is_held_joins_the_active_run_and_starts_nothing()
    {
        var host = Host();
        var patients = host.Get<PatientClient>();
        var first = await patients.StartAsync("order-1", Key("p-1", "customer-42"));

        var second = await patients.StartAsync("order-2", Key("p-2", "customer-42"));

        Assert.Equal(("p-1", "p-1"), (first.WorkflowId, second.WorkflowId));
        Assert.Null(await host.Client.GetRunAsync("p-2"));
        Assert.Equal("customer-42", (await host.Client.GetRunAsync("p-1"))!.InstanceKey);
        // Another key, or the same key of another workflow, is another instance.
        Assert.Equal("p-3", (await patients.StartAsync("order-3", Key("p-3", "customer-43"))).WorkflowId);
        Assert.Equal("t-1", (await host.Get<TallyClient>().StartAsync(new TallyState(0, 0), Key("t-1", "customer-42"))).WorkflowId);
        // Repeating the first start is idempotent; reusing its id with another key is a conflict.
        Assert.Equal("p-1", (await patients.StartAsync("order-1", Key("p-1", "customer-42"))).WorkflowId);
        var conflict = await Assert.ThrowsAsync<WorkflowConflictException>(() => patients.StartAsync("order-1", Key("p-1", "customer-44")));
        Assert.Contains("with instance key 'customer-42'; a start with the same id must have the same key (it has 'customer-44')", conflict.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refusing_start_while_the_key_is_held_throws_naming_the_active_run()
    {
        var host = Host();
        var patients = host.Get<PatientClient>();
        await patients.StartAsync("order-1", Key("p-1", "nightly"));

        var refused = await Assert.ThrowsAsync<WorkflowInstanceActiveException>(() => patients.StartAsync("order-2", Key("p-2", "nightly", ActiveInstanceBehavior.Refuse)));

        Assert.Equal(("Patient", "nightly", "p-1"), (refused.WorkflowName, refused.InstanceKey, refused.ActiveWorkflowId));
        Assert.Equal("Instance key 'nightly' of workflow 'Patient' is held by active run 'p-1'; at most one run per key may be active. Nothing was started.", refused.Message);
        Assert.Null(await host.Client.GetRunAsync("p-2"));
    }

    [Fact]
    public async Task Once_the_holder_ends_the_key_is_free_for_a_new_run()
    {
        var host = Host();
        var patients = host.Get<PatientClient>();
        await patients.StartAsync("order-1", Key("p-1", "customer-42"));
        await host.Client.SignalAsync("p-1", "go", "now");
        Assert.Equal(WorkflowStatus.Completed, (await host.Engine.ExecuteAsync("p-1").WaitAsync(Wait.Timeout)).Status);

        Assert.Equal("p-2", (await patients.StartAsync("order-2", Key("p-2", "customer-42", ActiveInstanceBehavior.Refuse))).WorkflowId);
        await host.Client.CancelAsync("p-2", "not now");
        Assert.Equal(WorkflowStatus.Cancelled, (await host.Engine.ExecuteAsync("p-2").WaitAsync(Wait.Timeout)).Status);
        Assert.Equal("p-3", (await patients.StartAsync("order-3", Key("p-3", "customer-42", ActiveInstanceBehavior.Refuse))).WorkflowId);
    }

    [Fact]
    public async Task A_run_that_continues_as_new_hands_its_key_to_the_next_run()
    {
        var host = Host();
        var tallies = host.Get<TallyClient>();
        await tallies.StartAsync(new TallyState(0, 1), Key("tally-1", "ledger"));

        Assert.Equal(WorkflowStatus.ContinuedAsNew, (await host.Engine.ExecuteAsync("tally-1").WaitAsync(Wait.Timeout)).Status);

        Assert.Equal("ledger", (await host.Client.GetRunAsync("tally-1~1"))!.InstanceKey);
        Assert.Equal("tally-1~1", (await tallies.StartAsync(new TallyState(5, 0), Key("tally-9", "ledger"))).WorkflowId);
        Assert.Null(await host.Client.GetRunAsync("tally-9"));
    }

    [Fact]
    public async Task Starts_racing_on_two_workers_yield_one_run_and_every_joiner_gets_its_handle()
    {
        var a = Host("worker-a");
        var b = Host("worker-b");

        var handles = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(() =>
            (i % 2 == 0 ? a : b).Get<PatientClient>().StartAsync($"order-{i}", Key($"race-{i}", "only-one")))));

        var winner = Assert.Single(handles.Select(h => h.WorkflowId).Distinct());
        var runs = await a.Client.ListRunsAsync(new WorkflowRunQuery { WorkflowName = "Patient" });
        Assert.Equal([winner], runs.Runs.Select(r => r.WorkflowId));
    }

    [Fact]
    public async Task Refusing_starts_racing_on_two_workers_let_exactly_one_through()
    {
        var a = Host("worker-a");
        var b = Host("worker-b");

        var started = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
        {
            try
            {
                await (i % 2 == 0 ? a : b).Get<PatientClient>().StartAsync($"order-{i}", Key($"race-{i}", "only-one", ActiveInstanceBehavior.Refuse));
                return true;
            }
            catch (WorkflowInstanceActiveException)
            {
                return false;
            }
        })));

        Assert.Single(started, s => s);
        Assert.Single((await a.Client.ListRunsAsync(new WorkflowRunQuery { WorkflowName = "Patient" })).Runs);
    }

    [Fact]
    public async Task A_dead_letter_whose_key_was_taken_meanwhile_is_not_revived_beside_the_new_holder()
    {
        var host = Host();
        _trips.BookFlight = (attempt, _) => throw new TimeoutException($"airline slow on attempt {attempt}");
        var trips = host.Get<TripClient>();
        await trips.StartAsync("ada", Key("trip-1", "ada-holiday"));
        Assert.Equal(WorkflowStatus.DeadLettered, (await host.Engine.ExecuteAsync("trip-1").WaitAsync(Wait.Timeout)).Status);

        // Parked runs are not active: the key is free, and a new trip takes it.
        Assert.Equal("trip-2", (await trips.StartAsync("ada", Key("trip-2", "ada-holiday", ActiveInstanceBehavior.Refuse))).WorkflowId);

        var retry = await Assert.ThrowsAsync<WorkflowInstanceActiveException>(() => host.Client.RetryDeadLetterAsync("trip-1"));
        Assert.Equal("trip-2", retry.ActiveWorkflowId);
        await Assert.ThrowsAsync<WorkflowInstanceActiveException>(() => host.Client.DiscardDeadLetterAsync("trip-1"));
        Assert.Equal(WorkflowStatus.DeadLettered, (await host.Client.GetRunAsync("trip-1"))!.Status);
        Assert.Equal(JournalEntryState.Failed, (await host.Store.LoadAsync("trip-1", default))!.Journal.Single(e => e.Sequence == 2).State);

        // Once the new trip has ended, the retry goes through.
        await host.Client.CancelAsync("trip-2");
        await host.Engine.ExecuteAsync("trip-2").WaitAsync(Wait.Timeout);
        await host.Client.RetryDeadLetterAsync("trip-1");
        Assert.Equal(WorkflowStatus.Running, (await host.Client.GetRunAsync("trip-1"))!.Status);
    }

    [Fact]
    public async Task Malformed_keys_and_options_are_refused_before_anything_is_stored()
    {
        var host = Host();
        var patients = host.Get<PatientClient>();

        foreach (var key in new[] { "", " ", "tab\tkey", "nul\0key", new string('k', 257) })
        {
            await Assert.ThrowsAnyAsync<ArgumentException>(() => patients.StartAsync("order", Key("bad", key)));
        }

        var behaviour = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => patients.StartAsync("order", Key("bad", "k", (ActiveInstanceBehavior)7)));
        Assert.Contains("WorkflowStartOptions.IfActive 7 is not an ActiveInstanceBehavior", behaviour.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentNullException>(() => patients.StartAsync("order", (WorkflowStartOptions)null!));
        Assert.Null(await host.Client.GetRunAsync("bad"));
        // A key of the longest allowed length, and one in any script, are fine.
        Assert.Equal("ok-1", (await patients.StartAsync("order", Key("ok-1", new string('k', 256)))).WorkflowId);
        Assert.Equal("ok-2", (await patients.StartAsync("order", Key("ok-2", "клиент-42 🚀"))).WorkflowId);
    }
}

public sealed class InMemoryInstanceLockTests : InstanceLockTests
{
    private protected override TestStorage CreateStorage() => TestStorage.InMemory(Clock);
}

public sealed class SqliteInstanceLockTests : InstanceLockTests
{
    private protected override TestStorage CreateStorage() => TestStorage.Sqlite(Clock);
}

public sealed class PostgresInstanceLockTests(PostgresDatabase database) : InstanceLockTests, IClassFixture<PostgresDatabase>
{
    private protected override TestStorage CreateStorage() => TestStorage.Postgres(database, Clock, "instancelock");
}
