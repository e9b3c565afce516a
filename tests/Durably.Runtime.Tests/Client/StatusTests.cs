using Durably.Runtime.Journal;
using Durably.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime.Tests.Client;

/// <summary>
/// Status and results, run unchanged on every store: a run's details (status, current operations, journal summary,
/// output or error, where it is), the paged listing by workflow, status and time, and WaitForResultAsync, which reads
/// the store only when told or when time passes.
/// </summary>
public abstract class StatusTests : StoreTestBase
{
    private readonly BodyLog _log = new();
    private readonly Gate _gate = new();

    private TestHost Host(string workerName = "status-worker")
    {
        var host = new TestHost(OpenStore(), d => d.AddWorkflow<Stoppable>().AddWorkflow<Patient>().AddWorkflow<ApprovalFlow>().AddWorkflow<Sleeper>().AddWorkflow<Throwing>(),
            s => s.AddSingleton<TimeProvider>(Clock).AddSingleton(_log).AddSingleton(_gate).AddSingleton(new Instances()), workerName);
        return Track(host);
    }

    [Fact]
    public async Task Details_show_the_current_operation_the_journal_and_then_the_output()
    {
        var host = Host();
        await host.Get<StoppableClient>().StartAsync("polite", "status-1");
        var execution = host.Engine.ExecuteAsync("status-1");
        await _gate.Arrived.WaitAsync(Wait.Timeout);

        // A plain step's attempting row travels while its body starts (docs/guarantees.md): it shows within a round trip.
        var running = await Wait.UntilAsync(async () => await host.Client.GetRunDetailsAsync("status-1") is { CurrentOperations.Count: 1 } details ? details : null,
            "the step in progress never showed in the run's details");
        Assert.Equal((WorkflowStatus.Running, "status-worker", false, null), (running.Run.Status, running.Worker, running.IsUnloaded, running.OutputJson));
        var current = Assert.Single(running.CurrentOperations);
        Assert.Equal((1L, "Hold", WorkflowOperationKind.Step, WorkflowOperationState.InProgress, 1, null), (current.Sequence, current.Name, current.Kind, current.State, current.Attempts, current.DueAt));
        Assert.Equal(new JournalSummary(2, 1, 0, 1, 2, 0, 0, 2), running.Summary);
        Assert.Equal(("Step", 0L), (running.LastCompleted!.Name, running.LastCompleted.CompletionIndex));

        _gate.Release();
        Assert.Equal(WorkflowStatus.Completed, (await execution.WaitAsync(Wait.Timeout)).Status);
        var done = (await host.Client.GetRunDetailsAsync("status-1"))!;
        Assert.Equal((WorkflowStatus.Completed, null, "\"polite\""), (done.Run.Status, done.Worker, done.OutputJson));
        Assert.Equal("\"polite\"", done.InputJson);
        Assert.Empty(done.CurrentOperations);
        Assert.Equal(new JournalSummary(3, 3, 0, 0, 3, 0, 0, 3), done.Summary);
        Assert.Equal([0L, 1L, 2L], done.Operations.Select(o => o.Sequence));
        Assert.Equal((2L, "Step"), (done.LastCompleted!.Sequence, done.LastCompleted.Name));
        // Each row as journaled, for an operator's timeline: its input, its result, the key its body got.
        Assert.All(done.Operations, o => Assert.Equal((StepContext.CreateIdempotencyKey("status-1", o.Name, o.Sequence), true, true, (DateTimeOffset?)null),
            (o.IdempotencyKey, o.InputJson is not null, o.OutputJson is not null, o.RetryAt)));

        Assert.Null(await host.Client.GetRunDetailsAsync("no-such-run"));
    }

    [Fact]
    public async Task Details_of_waiting_unloaded_and_failed_runs_say_what_they_wait_for_and_why_they_failed()
    {
        var host = Host();
        var started = Clock.GetUtcNow();
        await host.Get<ApprovalFlowClient>().StartAsync("order-1", "status-2");
        await host.Get<PatientClient>().StartAsync("order-2", "status-3");
        await host.Get<SleeperClient>().StartAsync(TimeSpan.FromSeconds(10), "status-4");
        await host.Get<ThrowingClient>().StartAsync(1, "status-5");
        Assert.Equal(ExecutionOutcome.Unloaded, (await host.Engine.ExecuteAsync("status-2").WaitAsync(Wait.Timeout)).Outcome);
        Assert.Equal(ExecutionOutcome.Unloaded, (await host.Engine.ExecuteAsync("status-3").WaitAsync(Wait.Timeout)).Outcome);
        Assert.Equal(WorkflowStatus.Failed, (await host.Engine.ExecuteAsync("status-5").WaitAsync(Wait.Timeout)).Status);

        var approval = (await host.Client.GetRunDetailsAsync("status-2"))!;
        Assert.Equal((true, started.AddHours(1), null), (approval.IsUnloaded, approval.WakeAt, approval.Worker));
        var wait = Assert.Single(approval.CurrentOperations);
        Assert.Equal(("approve", WorkflowOperationKind.Signal, started.AddHours(1)), (wait.Name, wait.Kind, wait.DueAt));
        Assert.Equal((null, null), (wait.IdempotencyKey, wait.OutputJson));
        Assert.NotNull(wait.InputJson);

        var patient = (await host.Client.GetRunDetailsAsync("status-3"))!;
        Assert.Equal((true, null), (patient.IsUnloaded, patient.WakeAt));
        Assert.Equal(("go", null), (patient.CurrentOperations.Single().Name, patient.CurrentOperations.Single().DueAt));

        // A short sleep stays loaded: the worker holds it and the timer says when it ends.
        var sleeping = host.Engine.ExecuteAsync("status-4");
        await Wait.UntilAsync(async () => (await host.Client.GetRunDetailsAsync("status-4"))!.CurrentOperations is [{ Kind: WorkflowOperationKind.Timer }], "run status-4 never showed its timer as the current operation");
        var sleeper = (await host.Client.GetRunDetailsAsync("status-4"))!;
        Assert.Equal((false, "status-worker", started.AddSeconds(10)), (sleeper.IsUnloaded, sleeper.Worker, sleeper.CurrentOperations.Single().DueAt));
        Clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(WorkflowStatus.Completed, (await sleeping.WaitAsync(Wait.Timeout)).Status);

        var failed = (await host.Client.GetRunDetailsAsync("status-5"))!;
        Assert.Equal((WorkflowStatus.Failed, null), (failed.Run.Status, failed.OutputJson));
        Assert.Equal("System.ArgumentOutOfRangeException", failed.Run.Error!.Type);
        Assert.Contains("over the limit", failed.Run.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Runs_are_listed_newest_first_in_pages_filtered_by_workflow_status_and_time()
    {
        var host = Host();
        var t0 = Clock.GetUtcNow();
        var expected = new List<(DateTimeOffset Created, string Id)>();
        for (var i = 0; i < 23; i++)
        {
            // Pairs share a millisecond: the id orders them.
            if (i % 2 == 0)
            {
                Clock.Advance(TimeSpan.FromSeconds(1));
            }

            var id = $"list-{i:D2}";
            if (i % 3 == 0)
            {
                await host.Get<ThrowingClient>().StartAsync(100, id);
            }
            else
            {
                await host.Get<SleeperClient>().StartAsync(TimeSpan.FromHours(1), id);
            }

            expected.Add((host.Engine.Context.UtcNow(), id));
        }

        foreach (var id in expected.Select(e => e.Id).Where((_, i) => i % 3 == 0))
        {
            Assert.Equal(WorkflowStatus.Completed, (await host.Engine.ExecuteAsync(id).WaitAsync(Wait.Timeout)).Status);
        }

        var newestFirst = expected.OrderByDescending(e => e.Created).ThenByDescending(e => e.Id, StringComparer.Ordinal).Select(e => e.Id).ToList();
        var all = await ReadAllAsync(host, new WorkflowRunQuery { PageSize = 7 });
        Assert.Equal(newestFirst, all.Ids);
        Assert.Equal(4, all.Pages);

        var throwing = await ReadAllAsync(host, new WorkflowRunQuery { WorkflowName = "Throwing", PageSize = 3 });
        Assert.Equal(newestFirst.Where(id => int.Parse(id[5..], System.Globalization.CultureInfo.InvariantCulture) % 3 == 0), throwing.Ids);
        var completed = await ReadAllAsync(host, new WorkflowRunQuery { Status = WorkflowStatus.Completed });
        Assert.Equal(throwing.Ids, completed.Ids);
        var running = await ReadAllAsync(host, new WorkflowRunQuery { WorkflowName = "Sleeper", Status = WorkflowStatus.Running, PageSize = 5 });
        Assert.Equal(newestFirst.Except(throwing.Ids), running.Ids);

        // Started from the 3rd second (inclusive) to the 6th (exclusive): list-04 … list-09.
        var window = await ReadAllAsync(host, new WorkflowRunQuery { CreatedFrom = t0.AddSeconds(3), CreatedBefore = t0.AddSeconds(6), PageSize = 4 });
        Assert.Equal(["list-09", "list-08", "list-07", "list-06", "list-05", "list-04"], window.Ids);

        // Keyset paging: a run started between two pages does not shift the next page.
        var first = await host.Client.ListRunsAsync(new WorkflowRunQuery { PageSize = 10 });
        Clock.Advance(TimeSpan.FromSeconds(1));
        await host.Get<SleeperClient>().StartAsync(TimeSpan.FromHours(1), "list-new");
        var second = await host.Client.ListRunsAsync(new WorkflowRunQuery { PageSize = 10, PageToken = first.NextPageToken });
        Assert.Equal(newestFirst.Skip(10).Take(10), second.Runs.Select(r => r.WorkflowId));
        Assert.Equal("list-new", (await host.Client.ListRunsAsync(new WorkflowRunQuery { PageSize = 1 })).Runs.Single().WorkflowId);

        // Hostile filter values are values, never SQL.
        Assert.Empty((await host.Client.ListRunsAsync(new WorkflowRunQuery { WorkflowName = "Sleeper' OR '1'='1" })).Runs);
        Assert.Equal(24, (await host.Client.ListRunsAsync(new WorkflowRunQuery { PageSize = WorkflowRunQuery.MaxPageSize })).Runs.Count);
        Assert.Equal(24, (await host.Client.ListRunsAsync()).Runs.Count);
    }

    [Fact]
    public async Task A_bad_query_is_refused_naming_the_bad_value()
    {
        var host = Host();
        await host.Get<SleeperClient>().StartAsync(TimeSpan.FromHours(1), "bad-1");

        var size = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => host.Client.ListRunsAsync(new WorkflowRunQuery { PageSize = 0 }));
        Assert.Contains("must be 1 to 1000; it is 0", size.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => host.Client.ListRunsAsync(new WorkflowRunQuery { PageSize = 1001 }));
        var status = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => host.Client.ListRunsAsync(new WorkflowRunQuery { Status = (WorkflowStatus)42 }));
        Assert.Contains("Status 42 is not a WorkflowStatus", status.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => host.Client.ListRunsAsync(new WorkflowRunQuery { WorkflowName = "" }));
        await Assert.ThrowsAsync<ArgumentException>(() => host.Client.ListRunsAsync(new WorkflowRunQuery { WorkflowName = new string('w', 100_000) }));
        var range = await Assert.ThrowsAsync<ArgumentException>(() => host.Client.ListRunsAsync(new WorkflowRunQuery { CreatedFrom = Clock.GetUtcNow(), CreatedBefore = Clock.GetUtcNow() }));
        Assert.Contains("must be earlier than CreatedBefore", range.Message, StringComparison.Ordinal);

        var wrongVersion = Convert.ToBase64String("2:0:bad-1"u8.ToArray()).TrimEnd('=');
        foreach (var token in new[] { "", "not a token!", "bm90IGEgdG9rZW4", wrongVersion, new string('A', 100_000), "MTo5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTpx" })
        {
            var error = await Assert.ThrowsAsync<ArgumentException>(() => host.Client.ListRunsAsync(new WorkflowRunQuery { PageToken = token }));
            Assert.Contains("is not a token ListRunsAsync returned", error.Message, StringComparison.Ordinal);
            Assert.True(error.Message.Length < 400, "the message quotes a long token only in part");
        }
    }

    [Fact]
    public async Task WaitForResultAsync_reads_the_store_only_when_told_or_when_time_passes()
    {
        var waiter = Host("waiter");
        var worker = Host("other-process");
        await waiter.Get<PatientClient>().StartAsync("order-6", "status-6");
        Assert.Equal(ExecutionOutcome.Unloaded, (await worker.Engine.ExecuteAsync("status-6").WaitAsync(Wait.Timeout)).Outcome);
        var waiting = waiter.Client.WaitForResultAsync<string>("status-6");

        // Finished by another process: a store that announces results (PostgreSQL) wakes the waiter at once; otherwise the
        // waiter reads again when its backoff elapses on the engine's clock — here a clock that moves only when told.
        await worker.Client.SignalAsync("status-6", "go", "now");
        Assert.Equal(WorkflowStatus.Completed, (await worker.Engine.ExecuteAsync("status-6").WaitAsync(Wait.Timeout)).Status);
        if (worker.Store is not IWorkflowStoreEvents)
        {
            await Task.Delay(200);
            Assert.False(waiting.IsCompleted);
            Clock.Advance(DurableOptions.DefaultPollInterval);
        }

        Assert.Equal("order-6 went with now", await waiting.WaitAsync(Wait.Timeout));

        // Finished in this process: the waiter is woken at once, whatever the store.
        await waiter.Get<PatientClient>().StartAsync("order-7", "status-7");
        var local = waiter.Client.WaitForResultAsync<string>("status-7");
        await waiter.Client.SignalAsync("status-7", "go", "here");
        Assert.Equal(WorkflowStatus.Completed, (await waiter.Engine.ExecuteAsync("status-7").WaitAsync(Wait.Timeout)).Status);
        Assert.Equal("order-7 went with here", await local.WaitAsync(Wait.Timeout));
    }

    private static async Task<(List<string> Ids, int Pages)> ReadAllAsync(TestHost host, WorkflowRunQuery query)
    {
        var ids = new List<string>();
        var pages = 0;
        for (var page = await host.Client.ListRunsAsync(query); ; page = await host.Client.ListRunsAsync(query with { PageToken = page.NextPageToken }))
        {
            pages++;
            Assert.InRange(page.Runs.Count, 1, query.PageSize);
            ids.AddRange(page.Runs.Select(r => r.WorkflowId));
            if (page.NextPageToken is null)
            {
                return (ids, pages);
            }
        }
    }
}

public sealed class InMemoryStatusTests : StatusTests
{
    private protected override TestStorage CreateStorage() => TestStorage.InMemory(Clock);
}

public sealed class SqliteStatusTests : StatusTests
{
    private protected override TestStorage CreateStorage() => TestStorage.Sqlite(Clock);
}

public sealed class PostgresStatusTests(PostgresDatabase database) : StatusTests, IClassFixture<PostgresDatabase>
{
    private protected override TestStorage CreateStorage() => TestStorage.Postgres(database, Clock, "status");
}
