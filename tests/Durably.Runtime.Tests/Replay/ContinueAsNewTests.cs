using Durably.Runtime.Journal;
using Durably.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime.Tests.Replay;

/// <summary>
/// Continue-as-new, run unchanged on every store: a run ends itself and a fresh run of the same workflow starts with
/// the carried state and an empty journal, in one write; untaken signals move with it; clients asking for the first
/// run's result or signalling it are led to the newest run; a wrong input type or a taken id fails the run plainly.
/// </summary>
public abstract class ContinueAsNewTests : StoreTestBase
{
    private readonly BodyLog _log = new();

    private TestHost Host()
    {
        var host = new TestHost(OpenStore(), d => d.AddWorkflow<Tally>().AddWorkflow<Patient>(),
            s => s.AddSingleton<TimeProvider>(Clock).AddSingleton(_log).AddSingleton(new Instances()));
        return Track(host);
    }

    [Fact]
    public async Task A_loop_continues_as_new_with_its_state_an_empty_journal_and_its_untaken_signals()
    {
        var host = Host();
        await host.Worker.StartAsync(CancellationToken.None);
        try
        {
            await host.Get<TallyClient>().StartAsync(new TallyState(0, 3), "tally-1");
            // Sent at once: no run waits for it until the fourth, so it travels from run to run untaken.
            Assert.True(await host.Client.SignalAsync("tally-1", "bonus", 5, "bonus-1"));

            Assert.Equal(45, await host.Client.WaitForResultAsync<int>("tally-1").WaitAsync(Wait.Timeout));
        }
        finally
        {
            await host.Worker.StopAsync(CancellationToken.None);
        }

        string[] ids = ["tally-1", "tally-1~1", "tally-1~2", "tally-1~3"];
        var runs = await Task.WhenAll(ids.Select(id => host.Store.LoadAsync(id, default)));
        Assert.Equal([WorkflowStatus.ContinuedAsNew, WorkflowStatus.ContinuedAsNew, WorkflowStatus.ContinuedAsNew, WorkflowStatus.Completed], runs.Select(r => r!.Run.Status));
        Assert.Equal([0, 1, 2, 3], runs.Select(r => r!.Run.Generation));
        Assert.Equal(["tally-1~1", "tally-1~2", "tally-1~3", null], runs.Select(r => r!.Run.ContinuedAs));
        Assert.Equal(["{\"Total\":0,\"Remaining\":3}", "{\"Total\":10,\"Remaining\":2}", "{\"Total\":20,\"Remaining\":1}", "{\"Total\":30,\"Remaining\":0}"], runs.Select(r => r!.Run.InputJson));

        // Each run replays only its own journal: one step, and the wait in the last.
        Assert.Equal([1, 1, 1, 2], runs.Select(r => r!.Journal.Count));
        Assert.Equal(4, _log.Count("Add"));
        Assert.Equal("tally-1~1", (await host.Client.GetRunAsync("tally-1"))!.ContinuedAs);

        // How far the loop is: asked of the first run's id, answered by the newest run.
        var progress = (await host.Client.GetProgressAsync<TallyState>("tally-1"))!;
        Assert.Equal(("tally-1~3", WorkflowStatus.Completed, new TallyState(40, 0)), (progress.WorkflowId, progress.RunStatus, progress.Status));
        Assert.Equal(new TallyState(10, 3), (await host.Client.GetRunDetailsAsync("tally-1"))!.StatusJson is { } first ? System.Text.Json.JsonSerializer.Deserialize<TallyState>(first) : null);

        // The signal id went along: a resend to the first run's id is still recognised as the same signal.
        Assert.False(await host.Client.SignalAsync("tally-1", "bonus", 5, "bonus-1"));
    }

    [Fact]
    public async Task A_signal_to_a_run_that_continued_as_new_reaches_the_newest_run()
    {
        var host = Host();
        await host.Get<TallyClient>().StartAsync(new TallyState(0, 1), "tally-2");

        var first = await host.Engine.ExecuteAsync("tally-2").WaitAsync(Wait.Timeout);
        Assert.Equal((ExecutionOutcome.Finished, WorkflowStatus.ContinuedAsNew), (first.Outcome, first.Status));
        Assert.Equal(ExecutionOutcome.Unloaded, (await host.Engine.ExecuteAsync("tally-2~1").WaitAsync(Wait.Timeout)).Outcome);

        Assert.True(await host.Client.SignalAsync("tally-2", "bonus", 7));

        Assert.Equal(WorkflowStatus.Completed, (await host.Engine.ExecuteAsync("tally-2~1").WaitAsync(Wait.Timeout)).Status);
        Assert.Equal(27, await host.Get<TallyClient>().GetHandle("tally-2").WaitForResultAsync());
        Assert.Equal(27, await host.Client.WaitForResultAsync<int>("tally-2~1"));
    }

    [Fact]
    public async Task Continuing_with_the_wrong_input_type_fails_the_run_naming_both_types()
    {
        var host = Host();
        await host.Get<TallyClient>().StartAsync(new TallyState(0, -1), "tally-3");

        var result = await host.Engine.ExecuteAsync("tally-3").WaitAsync(Wait.Timeout);

        Assert.Equal(WorkflowStatus.Failed, result.Status);
        Assert.Contains("continued as new with a System.String input, but the workflow's input is Durably.Runtime.Tests.Support.TallyState", result.Error!.Message, StringComparison.Ordinal);
        Assert.Null(await host.Store.GetRunAsync("tally-3~1", default));
    }

    [Fact]
    public async Task An_id_ending_in_the_continuation_suffix_is_refused_at_start_naming_the_rule_and_nothing_is_stored()
    {
        var host = Host();
        foreach (var reserved in new[] { "tally-4~1", "x~1", "x~0", "a~b~12" })
        {
            var error = await Assert.ThrowsAsync<ArgumentException>(() => host.Get<PatientClient>().StartAsync("squatter", reserved));
            Assert.Contains($"Workflow id '{reserved}' ends in '~", error.Message, StringComparison.Ordinal);
            Assert.Contains("reserved", error.Message, StringComparison.Ordinal);
            Assert.Null(await host.Store.GetRunAsync(reserved, default));
        }

        // A tilde elsewhere is fine; and run x's continuation then gets the id it always gets.
        foreach (var allowed in new[] { "x~", "~1", "x~1a", "x~1~a" })
        {
            await host.Get<PatientClient>().StartAsync("fine", allowed);
        }

        await host.Get<TallyClient>().StartAsync(new TallyState(0, 1), "x");
        var result = await host.Engine.ExecuteAsync("x").WaitAsync(Wait.Timeout);
        Assert.Equal(WorkflowStatus.ContinuedAsNew, result.Status);
        Assert.Equal("Tally", (await host.Store.GetRunAsync("x~1", default))!.WorkflowName);
    }

    [Fact]
    public async Task The_store_refuses_a_continuation_whose_id_is_taken_and_changes_nothing()
    {
        var store = OpenStore();
        var now = Clock.GetUtcNow();
        RunRecord Run(string id, int generation = 0) => RunRecord.Started(id, "Tally", 1, "{}", now, generation);
        await store.CreateRunAsync(Run("race-1"), default);
        await store.CreateRunAsync(Run("race-1~1", 1), default);
        await store.AddSignalAsync(new SignalRecord("race-1", "s-1", "bonus", "1", now), default);
        var lease = (await store.TryClaimAsync("race-1", "w", TimeSpan.FromMinutes(1), default))!;

        var error = await Assert.ThrowsAsync<DurableStoreException>(() => store.CompleteRunAsync(lease,
            new RunOutcome(WorkflowStatus.ContinuedAsNew, null, null, Run("race-1~1", 1)), default));

        Assert.Contains("id 'race-1~1' is already taken", error.Message, StringComparison.Ordinal);
        Assert.Equal(WorkflowStatus.Running, (await store.GetRunAsync("race-1", default))!.Status);
        Assert.Equal(Heartbeats.Current(lease), await Heartbeats.HeldAsync(store, lease, TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public void ContinueAsNew_outside_a_run_method_says_where_it_can_be_used()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Workflow.ContinueAsNew(1));

        Assert.Contains("Workflow.ContinueAsNew can only be used inside a workflow's [WorkflowRun] method", error.Message, StringComparison.Ordinal);
    }
}

public sealed class InMemoryContinueAsNewTests : ContinueAsNewTests
{
    private protected override TestStorage CreateStorage() => TestStorage.InMemory(Clock);
}

public sealed class SqliteContinueAsNewTests : ContinueAsNewTests
{
    private protected override TestStorage CreateStorage() => TestStorage.Sqlite(Clock);
}

public sealed class PostgresContinueAsNewTests(PostgresDatabase database) : ContinueAsNewTests, IClassFixture<PostgresDatabase>
{
    private protected override TestStorage CreateStorage() => TestStorage.Postgres(database, Clock, "continue");
}
