using Durably.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime.Tests.Client;

/// <summary>
/// Rerunning a run from a step, the same on every store: the new run's journal starts with the original's rows before
/// that step, identical; only the rest runs, on today's code, under new idempotency keys; both runs record the rerun;
/// a sequence inside a fan-out, a run still running and bad arguments are refused, naming the problem.
/// </summary>
public abstract class RerunTests : StoreTestBase
{
    private static readonly OperatorReason s_reason = new("ops-alice", "label printer fixed");
    private readonly BodyLog _log = new();
    private readonly ShippingFix _fix = new();

    private TestHost Host() => Track(new TestHost(
        OpenStore(), d => d.AddWorkflow<RerunOrder>(), s => s.AddSingleton(_log).AddSingleton(_fix), "rerun-worker",
        o => o.PollInterval = TimeSpan.FromMilliseconds(50)));

    private static async Task FailedRunAsync(TestHost host, string id)
    {
        await host.Get<RerunOrderClient>().StartAsync(id, id);
        var failed = await Assert.ThrowsAsync<WorkflowFailedException>(() => host.Client.WaitForResultAsync<string>(id).WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("label printer", failed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rerun_from_the_failed_step_copies_what_came_before_and_runs_only_the_rest_under_new_keys()
    {
        var host = Host();
        await host.Worker.StartAsync(default);
        try
        {
            await FailedRunAsync(host, "order-r");
            _fix.Deployed = true;

            var id = await host.Get<DurableOperator>().RerunFromAsync("order-r", 4, s_reason, "order-r-again");

            Assert.Equal("order-r-again", id);
            Assert.Equal("shipped r-order-r,order-r-a,order-r-b with key order-r-again/Ship/4",
                await host.Client.WaitForResultAsync<string>(id).WaitAsync(TimeSpan.FromSeconds(60)));
            var original = (await host.Store.LoadAsync("order-r", default))!.Journal.Where(e => e.Sequence < 4).OrderBy(e => e.Sequence).ToList();
            var copied = (await host.Store.LoadAsync(id, default))!.Journal.Where(e => e.Sequence < 4).OrderBy(e => e.Sequence).ToList();
            Assert.Equal(4, copied.Count);
            Assert.Equal(original.Select(e => e with { WorkflowId = "" }), copied.Select(e => e with { WorkflowId = "" }));
            Assert.Equal((1, 1, 2, 2), (_log.Count("Reserve"), _log.Count("Charge"), _log.Count("Pack"), _log.Count("Ship")));
            Assert.Equal(["order-r/Ship/4", "order-r-again/Ship/4"], _log.Runs.Where(r => r.StepId == "Ship").Select(r => r.IdempotencyKey));
            var details = (await host.Client.GetRunDetailsAsync(id))!;
            Assert.Equal(("RerunOrder", 1, WorkflowStatus.Completed), (details.Run.WorkflowName, details.Run.Version, details.Run.Status));

            // Both runs say where the rerun came from and went, with who did it and why.
            var of = Assert.Single(await host.Get<DurableOperator>().ListActionsAsync(id));
            var @as = Assert.Single(await host.Get<DurableOperator>().ListActionsAsync("order-r"));
            Assert.Equal(("rerun-of:order-r#4", "ops-alice", "label printer fixed"), (of.Action, of.Actor, of.Reason));
            Assert.Equal("rerun-as:order-r-again#4", @as.Action);
        }
        finally
        {
            await host.Worker.StopAsync(default);
        }
    }

    [Fact]
    public async Task A_rerun_from_the_start_runs_everything_again_under_a_new_id_and_the_original_stays_as_it_was()
    {
        var host = Host();
        await host.Worker.StartAsync(default);
        try
        {
            await FailedRunAsync(host, "order-s");
            _fix.Deployed = true;

            var id = await host.Get<DurableOperator>().RerunFromAsync("order-s", 0, s_reason);

            Assert.Matches("^order-s-rerun-[0-9a-f]{8}$", id);
            Assert.Equal($"shipped r-order-s,order-s-a,order-s-b with key {id}/Ship/4", await host.Client.WaitForResultAsync<string>(id).WaitAsync(TimeSpan.FromSeconds(60)));
            Assert.Equal((2, 2, 4, 2), (_log.Count("Reserve"), _log.Count("Charge"), _log.Count("Pack"), _log.Count("Ship")));
            Assert.Equal(WorkflowStatus.DeadLettered, (await host.Client.GetRunAsync("order-s"))!.Status);
        }
        finally
        {
            await host.Worker.StopAsync(default);
        }
    }

    [Fact]
    public async Task A_rerun_inside_a_fan_out_past_the_journal_of_a_running_run_or_with_bad_arguments_is_refused_and_creates_nothing()
    {
        var host = Host();
        var @operator = host.Get<DurableOperator>();
        await host.Worker.StartAsync(default);
        try
        {
            await FailedRunAsync(host, "order-t");
        }
        finally
        {
            await host.Worker.StopAsync(default);
        }

        var fanOut = await Assert.ThrowsAsync<InvalidOperationException>(() => @operator.RerunFromAsync("order-t", 3, s_reason, "t-3"));
        Assert.Equal("Run 'order-t' cannot be rerun from sequence 3: it is inside a fan-out: step 'Pack' (sequence 3) was called while step 'Pack' (sequence 2) was still running. Rerun it from 2 or from 4.", fanOut.Message);
        var past = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => @operator.RerunFromAsync("order-t", 6, s_reason, "t-6"));
        Assert.StartsWith("Run 'order-t' has operations 0 to 4; rerun it from one of them, or from 5 to replay them all and go on from its end.", past.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => @operator.RerunFromAsync("order-t", -1, s_reason, "t-minus"));
        var taken = await Assert.ThrowsAsync<ArgumentException>(() => @operator.RerunFromAsync("order-t", 4, s_reason, "order-t"));
        Assert.StartsWith("Run id 'order-t' is taken; pick another id for the rerun of 'order-t'. Nothing was created.", taken.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<WorkflowNotFoundException>(() => @operator.RerunFromAsync("no-such-order", 0, s_reason));
        await Assert.ThrowsAsync<ArgumentException>(() => @operator.RerunFromAsync("order-t", 4, s_reason, "bad\u001b[2Jid"));
        await Assert.ThrowsAsync<ArgumentException>(() => @operator.RerunFromAsync("order-t", 4, s_reason, new string('x', 257)));
        await Assert.ThrowsAsync<ArgumentException>(() => @operator.RerunFromAsync("order-t", 4, s_reason, ""));
        await Assert.ThrowsAsync<ArgumentException>(() => @operator.RerunFromAsync("order-t", 4, new OperatorReason("ops", " ")));

        // Not started by any worker yet: still running, so a rerun would do its work twice.
        await host.Get<RerunOrderClient>().StartAsync("order-u", "order-u");
        var running = await Assert.ThrowsAsync<InvalidOperationException>(() => @operator.RerunFromAsync("order-u", 0, s_reason, "u-0"));
        Assert.StartsWith("Run 'order-u' is still running;", running.Message, StringComparison.Ordinal);

        foreach (var id in new[] { "t-3", "t-6", "t-minus", "u-0" })
        {
            Assert.Null(await host.Client.GetRunAsync(id));
        }

        Assert.Empty(await @operator.ListActionsAsync("order-t"));
    }
}

public sealed class InMemoryRerunTests : RerunTests
{
    private protected override TestStorage CreateStorage() => TestStorage.InMemory(TimeProvider.System);
}

public sealed class SqliteRerunTests : RerunTests
{
    private protected override TestStorage CreateStorage() => TestStorage.Sqlite(TimeProvider.System);
}

public sealed class PostgresRerunTests(PostgresDatabase database) : RerunTests, IClassFixture<PostgresDatabase>
{
    private protected override TestStorage CreateStorage() => TestStorage.Postgres(database, TimeProvider.System, "reruns");
}
