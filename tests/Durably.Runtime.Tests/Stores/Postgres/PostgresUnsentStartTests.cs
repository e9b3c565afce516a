using Durably.Runtime.Journal;
using Durably.Runtime.Stores;
using Durably.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime.Tests.Stores.Postgres;

/// <summary>
/// Starts on PostgreSQL whose run begins here before its row is sent: the row goes before the run's first write, or —
/// when the run ends before writing anything — already ended, as the run's one durable write. A start whose id is taken
/// writes nothing of its own and answers as any start of a taken id does. (A run without steps is one round trip:
/// <c>PostgresRoundTripTests</c>.)
/// </summary>
public sealed class PostgresUnsentStartTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    private const string Worker = "unsent-worker";
    private readonly string _schema = "unsent_" + Guid.NewGuid().ToString("N")[..12];

    private PostgresWorkflowStore OpenStore() => PostgresWorkflowStore.Open(database.ConnectionString, new PostgresStoreOptions { Schema = _schema });

    private TestHost Host(PostgresWorkflowStore store, BodyLog? log = null) => new(store,
        d => d.AddWorkflow<NoSteps>().AddWorkflow<StatusNoSteps>().AddWorkflow<PatchedNoSteps>().AddWorkflow<FailsAtOnce>().AddWorkflow<OneLoggedStep>(),
        s => s.AddSingleton(log ?? new BodyLog()), workerName: Worker, options: o => o.PollInterval = TimeSpan.FromHours(1));

    /// <summary>Starts the worker and waits for its first claim, after which starts here run here.</summary>
    private static async Task StartedAsync(TestHost host)
    {
        await host.Worker.StartAsync(default);
        await Wait.UntilAsync(() => host.Engine.Context.LocalRunner is not null, "the worker never made its first claim");
    }

    private static RunRecord Held(string id, string input = "1") =>
        RunRecord.Started(id, "Held", 1, input, DateTimeOffset.UtcNow) with { Owner = "w", Epoch = 1, LeaseExpiresAt = DateTimeOffset.UtcNow.AddMinutes(1) };

    [Fact]
    public async Task A_run_that_fails_or_sets_a_status_or_patches_before_any_step_is_written_whole()
    {
        var store = OpenStore();
        await using var host = Host(store);
        await StartedAsync(host);

        var failed = await host.Get<FailsAtOnceClient>().StartAsync("order-2", "fails-1");
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => failed.WaitForResultAsync());
        var status = await (await host.Get<StatusNoStepsClient>().StartAsync("order-3", "status-1")).WaitForResultAsync();
        var patched = await (await host.Get<PatchedNoStepsClient>().StartAsync("order-4", "patched-1")).WaitForResultAsync();

        Assert.Contains("refused before any step", failure.Message, StringComparison.Ordinal);
        var failedRun = (await store.GetRunAsync("fails-1", default))!;
        Assert.Equal(WorkflowStatus.Failed, failedRun.Status);
        Assert.Contains("refused before any step", failedRun.Error?.Message, StringComparison.Ordinal);
        Assert.Equal("order-3-checked", status);
        Assert.Contains("checked", (await store.GetRunStatusAsync("status-1", default))?.StatusJson, StringComparison.Ordinal);
        Assert.Equal("order-4-new", patched);
        var marker = Assert.Single((await store.LoadAsync("patched-1", default))!.Journal);
        Assert.Equal((OperationKind.Patch, "fast-path"), (marker.Kind, marker.OperationId));
        Assert.Equal(WorkflowStatus.Completed, (await store.GetRunAsync("patched-1", default))!.Status);
    }

    /// <summary>
    /// The id is taken by a run this very worker holds at epoch 1 and that is still running: the shape every fenced
    /// write of the new start's execution would match. The start writes nothing, the run stays as it was, and the
    /// start answers with it; a step behind a taken id never runs, and another input is refused.
    /// </summary>
    [Fact]
    public async Task A_start_whose_id_is_taken_writes_nothing_and_answers_with_the_run_that_has_it()
    {
        var store = OpenStore();
        var log = new BodyLog();
        await using var host = Host(store, log);
        await StartedAsync(host);
        var at = DateTimeOffset.UtcNow.AddMinutes(-5);
        await store.CreateRunAsync(RunRecord.Started("taken-1", "NoSteps", 1, "\"order-1\"", at) with { Owner = Worker, Epoch = 1 }, default);
        await store.CreateRunAsync(RunRecord.Started("taken-2", "OneLoggedStep", 1, "\"order-2\"", at) with
        {
            Status = WorkflowStatus.Completed, OutputJson = "\"shipped-before\"", UpdatedAt = at,
        }, default);
        var before = (await store.GetRunAsync("taken-1", default))!;

        var same = await host.Get<NoStepsClient>().StartAsync("order-1", "taken-1");
        var stepped = await host.Get<OneLoggedStepClient>().StartAsync("order-2", "taken-2");
        var other = await Assert.ThrowsAsync<WorkflowConflictException>(() => host.Get<NoStepsClient>().StartAsync("another order", "taken-1"));

        Assert.Equal("taken-1", same.WorkflowId);
        Assert.Equal("shipped-before", await stepped.WaitForResultAsync());
        Assert.Empty(log.Runs);
        Assert.Contains("another input", other.Message, StringComparison.Ordinal);
        var after = (await store.GetRunAsync("taken-1", default))!;
        Assert.Equal((WorkflowStatus.Running, Worker, 1L, null, before.UpdatedAt), (after.Status, after.Owner, after.Epoch, after.OutputJson, after.UpdatedAt));
        Assert.Equal(0L, await database.ScalarAsync($"SELECT count(*) FROM \"{_schema}\".journal"));
    }

    [Fact]
    public async Task Creating_a_run_already_ended_refuses_what_it_cannot_write_and_writes_the_rest_verbatim()
    {
        await using var store = OpenStore();
        var done = new RunOutcome(WorkflowStatus.Completed, "\"done\"", null);

        var unowned = await Assert.ThrowsAsync<ArgumentException>(() => store.CreateEndedRunAsync(RunRecord.Started("ended-unowned", "Held", 1, "1", DateTimeOffset.UtcNow), done, default));
        var running = await Assert.ThrowsAsync<ArgumentException>(() => store.CreateEndedRunAsync(Held("ended-running"), done with { Status = WorkflowStatus.Running }, default));
        var continued = await Assert.ThrowsAsync<ArgumentException>(() => store.CreateEndedRunAsync(Held("ended-continued"),
            new RunOutcome(WorkflowStatus.ContinuedAsNew, null, null, RunRecord.Started("ended-continued~1", "Held", 1, "1", DateTimeOffset.UtcNow, 1)), default));
        await Assert.ThrowsAsync<ArgumentNullException>(() => store.CreateEndedRunAsync(null!, done, default));
        await Assert.ThrowsAsync<ArgumentNullException>(() => store.CreateEndedRunAsync(Held("ended-null"), null!, default));
        var nul = await Assert.ThrowsAnyAsync<Exception>(() => store.CreateEndedRunAsync(Held("ended-nul"), done with { OutputJson = "\"a\0b\"" }, default));

        var hostile = "'); DROP TABLE runs; -- \u202e \U0001F600 \"quoted\"";
        var huge = "\"" + new string('x', 1024 * 1024) + "\"";
        var (failedRun, failedCreated) = await store.CreateEndedRunAsync(Held("ended-failed"),
            new RunOutcome(WorkflowStatus.Failed, null, new WorkflowError("Hostile", hostile), FailedSequence: 7), default);
        var (hugeRun, hugeCreated) = await store.CreateEndedRunAsync(Held("ended-huge"), done with { OutputJson = huge }, default);
        var (emptyRun, emptyCreated) = await store.CreateEndedRunAsync(Held("ended-empty"), new RunOutcome(WorkflowStatus.Completed, null, null), default);
        var (kept, keptCreated) = await store.CreateEndedRunAsync(Held("ended-huge", "2"), done, default);

        Assert.Contains("'ended-unowned'", unowned.Message, StringComparison.Ordinal);
        Assert.Contains("Running", running.Message, StringComparison.Ordinal);
        Assert.Contains("continuation", continued.Message, StringComparison.Ordinal);
        Assert.Contains("0x00", nul.ToString(), StringComparison.Ordinal);
        Assert.Null(await store.GetRunAsync("ended-nul", default));
        foreach (var id in new[] { "ended-unowned", "ended-running", "ended-continued", "ended-continued~1" })
        {
            Assert.Null(await store.GetRunAsync(id, default));
        }

        Assert.True(failedCreated && hugeCreated && emptyCreated);
        Assert.Equal((WorkflowStatus.Failed, hostile, 7L, null), (failedRun.Status, failedRun.Error?.Message, failedRun.FailedSequence, failedRun.Owner));
        Assert.Equal(huge, (await store.GetRunAsync("ended-huge", default))!.OutputJson);
        Assert.Equal(huge.Length, hugeRun.OutputJson!.Length);
        Assert.Equal((WorkflowStatus.Completed, null), (emptyRun.Status, emptyRun.OutputJson));
        Assert.False(keptCreated);
        Assert.Equal(("1", huge.Length), (kept.InputJson, kept.OutputJson!.Length));
    }
}
