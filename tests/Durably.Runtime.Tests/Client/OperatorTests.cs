using Durably.Runtime.Journal;
using Durably.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime.Tests.Client;

/// <summary>
/// What an operator does through <see cref="DurableOperator"/>, unchanged on every store: each action takes effect
/// through the client and is recorded with who did it and why; an action refused — bad reason, wrong state, bad
/// payload — changes nothing and records nothing.
/// </summary>
public abstract class OperatorTests : StoreTestBase
{
    private static readonly OperatorReason s_alice = new("alice@example.com", "the airline's API is back");
    private readonly TripLog _trips = new();
    private readonly BodyLog _log = new();

    private TestHost Host() => Track(new TestHost(
        OpenStore(), d => d.AddWorkflow<Trip>().AddWorkflow<ApprovalFlow>().AddWorkflow<TypedApproval>(),
        s => s.AddSingleton<TimeProvider>(Clock).AddSingleton(_trips).AddSingleton(_log),
        "operator-worker"));

    private async Task<(TestHost Host, DurableOperator Operator)> ParkedTripAsync(string id)
    {
        _trips.BookFlight = (attempt, _) => throw new TimeoutException($"airline slow on attempt {attempt}");
        var host = Host();
        await host.Get<TripClient>().StartAsync("ada", id);
        Assert.Equal(WorkflowStatus.DeadLettered, (await host.Engine.ExecuteAsync(id).WaitAsync(Wait.Timeout)).Status);
        return (host, host.Get<DurableOperator>());
    }

    [Fact]
    public async Task A_retry_and_a_discard_take_effect_and_are_recorded_with_who_and_why()
    {
        var (host, operations) = await ParkedTripAsync("op-1");
        await host.Get<TripClient>().StartAsync("bob", "op-2");
        Assert.Equal(WorkflowStatus.DeadLettered, (await host.Engine.ExecuteAsync("op-2").WaitAsync(Wait.Timeout)).Status);

        await operations.RetryDeadLetterAsync("op-1", s_alice);
        Clock.Advance(TimeSpan.FromMinutes(1));
        await operations.DiscardDeadLetterAsync("op-2", new OperatorReason("bob", "customer cancelled by phone"));

        Assert.Equal(WorkflowStatus.Running, (await host.Client.GetRunAsync("op-1"))!.Status);
        Assert.Equal("customer cancelled by phone", (await host.Client.GetRunAsync("op-2"))!.CancelReason);
        var retried = Assert.Single(await operations.ListActionsAsync("op-1"));
        Assert.Equal(("op-1", "retry", "alice@example.com", "the airline's API is back"), (retried.WorkflowId, retried.Action, retried.Actor, retried.Reason));
        Assert.Equal(Clock.GetUtcNow().AddMinutes(-1), retried.At);
        Assert.Equal(("discard", "bob"), (await operations.ListActionsAsync("op-2")) is [var d] ? (d.Action, d.Actor) : default);

        // A second retry is refused by the client (no longer parked): nothing changes and nothing more is recorded.
        await Assert.ThrowsAsync<WorkflowNotDeadLetteredException>(() => operations.RetryDeadLetterAsync("op-1", s_alice));
        Assert.Single(await operations.ListActionsAsync("op-1"));
    }

    [Fact]
    public async Task A_cancel_is_recorded_once_and_a_signal_carries_its_json_payload()
    {
        var host = Host();
        var operations = host.Get<DurableOperator>();
        await host.Get<ApprovalFlowClient>().StartAsync("order-1", "op-3");
        await host.Get<ApprovalFlowClient>().StartAsync("order-2", "op-4");
        Assert.Equal(ExecutionOutcome.Unloaded, (await host.Engine.ExecuteAsync("op-3").WaitAsync(Wait.Timeout)).Outcome);

        Assert.True(await operations.SignalAsync("op-3", "approve", """{"By":"ops","Approved":true}""", s_alice, "sig-1"));
        Assert.False(await operations.SignalAsync("op-3", "approve", """{"By":"ops","Approved":true}""", s_alice, "sig-1"));
        Assert.Equal(CancelResult.Requested, await operations.CancelAsync("op-4", s_alice with { Reason = "duplicate order" }));
        Assert.Equal(CancelResult.AlreadyRequested, await operations.CancelAsync("op-4", s_alice with { Reason = "duplicate order" }));

        Assert.Equal(["signal:approve"], (await operations.ListActionsAsync("op-3")).Select(a => a.Action));
        Assert.Equal(["cancel"], (await operations.ListActionsAsync("op-4")).Select(a => a.Action));
        Assert.Equal("duplicate order", (await host.Client.GetRunAsync("op-4"))!.CancelReason);
        await host.Engine.ExecuteAsync("op-3").WaitAsync(Wait.Timeout);
        var details = (await host.Client.GetRunDetailsAsync("op-3"))!;
        Assert.Contains(details.Operations, o => o.Kind == WorkflowOperationKind.Signal && o.OutputJson is { } json && json.Contains("\"ops\"", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("", "needs a reason; it is blank")]
    [InlineData("   ", "needs a reason; it is blank")]
    [InlineData("too long", "characters long; the limit is 4096")]
    [InlineData("nul\0inside", "U+0000")]
    public async Task A_bad_reason_is_refused_before_anything_changes(string reason, string expected)
    {
        var (host, operations) = await ParkedTripAsync("op-5");
        reason = reason == "too long" ? new string('x', DurableOperator.MaxReasonLength + 1) : reason;

        var error = await Assert.ThrowsAsync<ArgumentException>(() => operations.RetryDeadLetterAsync("op-5", s_alice with { Reason = reason }));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Equal(WorkflowStatus.DeadLettered, (await host.Client.GetRunAsync("op-5"))!.Status);
        Assert.Empty(await operations.ListActionsAsync("op-5"));
    }

    [Theory]
    [InlineData("", "must not be empty or blank")]
    [InlineData("eve\nadmin", "control character U+000A")]
    public async Task A_bad_actor_or_payload_is_refused_before_anything_changes(string actor, string expected)
    {
        var host = Host();
        var operations = host.Get<DurableOperator>();
        // TypedApproval declares its signal, so the client knows the name and the payload's type.
        await host.Get<TypedApprovalClient>().StartAsync("order-1", "op-6");

        var badActor = await Assert.ThrowsAsync<ArgumentException>(() => operations.CancelAsync("op-6", new OperatorReason(actor, "why not")));
        var notJson = await Assert.ThrowsAsync<ArgumentException>(() => operations.SignalAsync("op-6", "approve", "{\"By\": <script>", s_alice));
        var wrongShape = await Assert.ThrowsAsync<ArgumentException>(() => operations.SignalAsync("op-6", "approve", """{"Approved":"maybe"}""", s_alice));
        var unknownSignal = await Assert.ThrowsAsync<ArgumentException>(() => operations.SignalAsync("op-6", "reject", "null", s_alice));

        Assert.Contains(expected, badActor.Message, StringComparison.Ordinal);
        Assert.Contains("is not JSON", notJson.Message, StringComparison.Ordinal);
        Assert.Contains("{\"By\": <script>", notJson.Message, StringComparison.Ordinal);
        Assert.Contains("approve", wrongShape.Message, StringComparison.Ordinal);
        Assert.Contains("has no signal 'reject'", unknownSignal.Message, StringComparison.Ordinal);
        Assert.Equal(WorkflowStatus.Running, (await host.Client.GetRunAsync("op-6"))!.Status);
        Assert.Null((await host.Client.GetRunAsync("op-6"))!.CancelReason);
        Assert.Empty(await operations.ListActionsAsync("op-6"));
    }

    [Fact]
    public async Task Runs_are_listed_by_instance_key_and_version_and_a_bad_filter_is_named()
    {
        var host = Host();
        await host.Get<ApprovalFlowClient>().StartAsync("order-1", new WorkflowStartOptions { WorkflowId = "op-7", InstanceKey = "customer-1" });
        await host.Get<ApprovalFlowClient>().StartAsync("order-2", "op-8");

        Assert.Equal(["op-7"], (await host.Client.ListRunsAsync(new WorkflowRunQuery { InstanceKey = "customer-1" })).Runs.Select(r => r.WorkflowId));
        Assert.Equal(["op-8", "op-7"], (await host.Client.ListRunsAsync(new WorkflowRunQuery { WorkflowName = "ApprovalFlow", Version = 1 })).Runs.Select(r => r.WorkflowId));
        Assert.Empty((await host.Client.ListRunsAsync(new WorkflowRunQuery { WorkflowName = "ApprovalFlow", Version = 2 })).Runs);

        var noName = await Assert.ThrowsAsync<ArgumentException>(() => host.Client.ListRunsAsync(new WorkflowRunQuery { Version = 1 }));
        var zero = await Assert.ThrowsAsync<ArgumentException>(() => host.Client.ListRunsAsync(new WorkflowRunQuery { WorkflowName = "ApprovalFlow", Version = 0 }));
        var blankKey = await Assert.ThrowsAsync<ArgumentException>(() => host.Client.ListRunsAsync(new WorkflowRunQuery { InstanceKey = " " }));
        var longKey = await Assert.ThrowsAsync<ArgumentException>(() => host.Client.ListRunsAsync(new WorkflowRunQuery { InstanceKey = new string('k', 10_000) }));
        Assert.Contains("set WorkflowName too", noName.Message, StringComparison.Ordinal);
        Assert.Contains("1 or more; it is 0", zero.Message, StringComparison.Ordinal);
        Assert.Contains("must not be empty or blank", blankKey.Message, StringComparison.Ordinal);
        Assert.Contains("10000 characters long", longKey.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Counts_and_workers_come_from_the_store()
    {
        var (host, operations) = await ParkedTripAsync("op-9");
        await host.Store.AdvertiseAsync("operator-worker", [new WorkflowVersion("Trip", 1)], TimeSpan.FromMinutes(1), default);

        Assert.True(operations.HasStatistics);
        Assert.Equal([new RunCount("Trip", WorkflowStatus.DeadLettered, 1)], await operations.CountRunsAsync(null));
        Assert.Equal(["operator-worker"], (await operations.ListWorkersAsync()).Select(w => w.Name));
    }

    [Fact]
    public async Task A_purge_deletes_ended_runs_in_batches_reports_progress_and_keeps_dead_letters()
    {
        var (host, operations) = await ParkedTripAsync("op-10");
        _trips.BookFlight = (attempt, _) => Task.FromResult($"flight {attempt}");
        for (var i = 0; i < DurableOperator.PurgeBatchSize + 20; i++)
        {
            await host.Get<TripClient>().StartAsync("ada", $"purge-{i}");
        }

        for (var i = 0; i < DurableOperator.PurgeBatchSize + 20; i++)
        {
            Assert.Equal(WorkflowStatus.Completed, (await host.Engine.ExecuteAsync($"purge-{i}").WaitAsync(Wait.Timeout)).Status);
        }

        Clock.Advance(TimeSpan.FromDays(8));
        await host.Get<TripClient>().StartAsync("bob", "recent");
        Assert.Equal(WorkflowStatus.Completed, (await host.Engine.ExecuteAsync("recent").WaitAsync(Wait.Timeout)).Status);
        var reports = new List<long>();

        var purged = await operations.PurgeAsync(TimeSpan.FromDays(7), progress: new SynchronousProgress(reports.Add));

        Assert.Equal(DurableOperator.PurgeBatchSize + 20, purged);
        Assert.Equal([DurableOperator.PurgeBatchSize, DurableOperator.PurgeBatchSize + 20], reports);
        Assert.Null(await host.Client.GetRunAsync("purge-0"));
        Assert.NotNull(await host.Client.GetRunAsync("recent"));
        Assert.Equal(WorkflowStatus.DeadLettered, (await host.Client.GetRunAsync("op-10"))!.Status);
        Assert.Equal(0, await operations.PurgeAsync(TimeSpan.FromDays(7), "Trip"));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => operations.PurgeAsync(TimeSpan.FromSeconds(-1)));
        await Assert.ThrowsAsync<ArgumentException>(() => operations.PurgeAsync(TimeSpan.Zero, " "));
    }

    /// <summary>Reports on the caller's thread (Progress&lt;T&gt; posts to the thread pool, too late for an assertion).</summary>
    private sealed class SynchronousProgress(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }
}

public sealed class InMemoryOperatorTests : OperatorTests
{
    private protected override TestStorage CreateStorage() => TestStorage.InMemory(Clock);
}

public sealed class SqliteOperatorTests : OperatorTests
{
    private protected override TestStorage CreateStorage() => TestStorage.Sqlite(Clock);
}

public sealed class PostgresOperatorTests(PostgresDatabase database) : OperatorTests, IClassFixture<PostgresDatabase>
{
    private protected override TestStorage CreateStorage() => TestStorage.Postgres(database, Clock, "operators");
}
