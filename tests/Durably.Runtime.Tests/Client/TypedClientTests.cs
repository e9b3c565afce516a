using Durably.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime.Tests.Client;

/// <summary>
/// The generated typed clients (<c>TripClient</c>, <c>StrictClient</c>) do what users do every day without the untyped
/// client — a run's details, its result, a cancel, pages of this workflow's runs and dead letters, retry and discard —
/// and act only on runs of their own workflow. Unchanged on every store.
/// </summary>
public abstract class TypedClientTests : StoreTestBase
{
    private readonly TripLog _log = new();

    private TestHost Host() => Track(new TestHost(
        OpenStore(), d => d.AddWorkflow<Trip>().AddWorkflow<Strict>(),
        s => s.AddSingleton<TimeProvider>(Clock).AddSingleton(_log),
        "typed-client-worker",
        o => o.UnloadThreshold = Timeout.InfiniteTimeSpan));

    private async Task<WorkflowStatus> RunAsync(TestHost host, string workflowId)
        => (await host.Engine.ExecuteAsync(workflowId).WaitAsync(Wait.Timeout)).Status;

    [Fact]
    public async Task Details_and_the_result_of_a_run_come_from_the_typed_client()
    {
        var host = Host();
        var strict = host.Get<StrictClient>();
        await strict.StartAsync("ok", "strict-1");

        var waiting = await strict.GetDetailsAsync("strict-1");
        Assert.Equal((WorkflowStatus.Running, "Strict", 0), (waiting!.Run.Status, waiting.Run.WorkflowName, waiting.Operations.Count));
        var result = strict.WaitForResultAsync("strict-1");
        Assert.Equal(WorkflowStatus.Completed, await RunAsync(host, "strict-1"));

        Assert.Equal("ok", await result.WaitAsync(Wait.Timeout));
        var done = await strict.GetDetailsAsync("strict-1");
        Assert.Equal((WorkflowStatus.Completed, "\"ok\"", "Check"), (done!.Run.Status, done.OutputJson, done.LastCompleted!.Name));
        Assert.Equal("Strict", strict.WorkflowName);
        Assert.Equal("ok", await strict.GetHandle("strict-1").WaitForResultAsync().WaitAsync(Wait.Timeout));

        Assert.Null(await strict.GetDetailsAsync("no-such-run"));
        Assert.Equal("no-such-run", (await Assert.ThrowsAsync<WorkflowNotFoundException>(() => strict.WaitForResultAsync("no-such-run"))).WorkflowId);
    }

    [Fact]
    public async Task A_cancel_through_the_typed_client_ends_the_run_with_the_reason()
    {
        var host = Host();
        var trips = host.Get<TripClient>();
        await trips.StartAsync("ada", "trip-1");

        Assert.Equal(CancelResult.Requested, await trips.CancelAsync("trip-1", "plans changed"));
        Assert.Equal(CancelResult.AlreadyRequested, await trips.CancelAsync("trip-1", "again"));
        Assert.Equal(WorkflowStatus.Cancelled, await RunAsync(host, "trip-1"));

        Assert.Equal(CancelResult.AlreadyEnded, await trips.CancelAsync("trip-1"));
        var failed = await Assert.ThrowsAsync<WorkflowFailedException>(() => trips.WaitForResultAsync("trip-1"));
        Assert.Equal((WorkflowStatus.Cancelled, "plans changed"), (failed.Status, failed.Error!.Message));
        Assert.Empty(_log.Calls);
        await Assert.ThrowsAsync<WorkflowNotFoundException>(() => trips.CancelAsync("no-such-trip"));
    }

    [Fact]
    public async Task Listing_pages_through_this_workflow_s_runs_only()
    {
        var host = Host();
        var strict = host.Get<StrictClient>();
        var trips = host.Get<TripClient>();
        foreach (var id in new[] { "s-1", "s-2", "s-3" })
        {
            await strict.StartAsync("ok", id);
            Clock.Advance(TimeSpan.FromSeconds(1));
        }

        await trips.StartAsync("ada", "t-1");
        await trips.StartAsync("bob", "t-2");
        Assert.Equal(WorkflowStatus.Completed, await RunAsync(host, "s-2"));

        var first = await strict.ListRunsAsync(new WorkflowRunQuery { PageSize = 2 });
        Assert.Equal(["s-3", "s-2"], first.Runs.Select(r => r.WorkflowId));
        var second = await strict.ListRunsAsync(new WorkflowRunQuery { PageSize = 2, PageToken = first.NextPageToken });
        Assert.Equal(["s-1"], second.Runs.Select(r => r.WorkflowId));
        Assert.Null(second.NextPageToken);
        Assert.Equal(["t-2", "t-1"], (await trips.ListRunsAsync()).Runs.Select(r => r.WorkflowId).Order().Reverse());
        Assert.Equal(["s-2"], (await strict.ListRunsAsync(new WorkflowRunQuery { Status = WorkflowStatus.Completed })).Runs.Select(r => r.WorkflowId));
        Assert.Equal(3, (await strict.ListRunsAsync(new WorkflowRunQuery { WorkflowName = "Strict" })).Runs.Count);

        var other = await Assert.ThrowsAsync<ArgumentException>(() => strict.ListRunsAsync(new WorkflowRunQuery { WorkflowName = "Trip" }));
        Assert.Equal("query", other.ParamName);
        Assert.StartsWith("The query asks for runs of workflow 'Trip', but this is the client of 'Strict'.", other.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => strict.ListDeadLettersAsync(new WorkflowRunQuery { WorkflowName = "" }));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => strict.ListRunsAsync(new WorkflowRunQuery { PageSize = 0 }));
    }

    [Fact]
    public async Task This_workflow_s_dead_letters_are_listed_inspected_retried_and_discarded()
    {
        var host = Host();
        var strict = host.Get<StrictClient>();
        var trips = host.Get<TripClient>();
        await strict.StartAsync("bad", "strict-bad");
        Assert.Equal(WorkflowStatus.DeadLettered, await RunAsync(host, "strict-bad"));
        _log.BookFlight = (attempt, _) => throw new TimeoutException($"airline slow on attempt {attempt}");
        await trips.StartAsync("ada", "trip-parked");
        Assert.Equal(WorkflowStatus.DeadLettered, await RunAsync(host, "trip-parked"));

        Assert.Equal(["strict-bad"], (await strict.ListDeadLettersAsync()).DeadLetters.Select(d => d.WorkflowId));
        var parked = Assert.Single((await trips.ListDeadLettersAsync()).DeadLetters);
        Assert.Equal(("trip-parked", DeadLetterReason.StepFailed, "BookFlight", 3), (parked.WorkflowId, parked.Reason, parked.FailedOperation!.Name, parked.FailedOperation.Attempts));
        Assert.Equal(DeadLetterReason.RunFailed, (await strict.GetDeadLetterAsync("strict-bad"))!.Reason);
        Assert.Null(await strict.GetDeadLetterAsync("no-such-run"));

        // Retry the trip once the airline is back: the flight gets a fresh budget and the run completes.
        _log.BookFlight = (attempt, _) => Task.FromResult($"flight on attempt {attempt}");
        await trips.RetryDeadLetterAsync("trip-parked");
        Assert.Equal(WorkflowStatus.Completed, await RunAsync(host, "trip-parked"));
        Assert.Equal("hotel-for-ada, flight on attempt 1", await trips.WaitForResultAsync("trip-parked"));

        // Discard the strict run: it ends cancelled with the reason, and is no dead letter any more.
        await strict.DiscardDeadLetterAsync("strict-bad", "refused by hand");
        Assert.Equal(WorkflowStatus.Cancelled, await RunAsync(host, "strict-bad"));
        Assert.Empty((await strict.ListDeadLettersAsync()).DeadLetters);
        Assert.Equal("refused by hand", (await strict.GetDetailsAsync("strict-bad"))!.Run.Error!.Message);
        await Assert.ThrowsAsync<WorkflowNotDeadLetteredException>(() => trips.RetryDeadLetterAsync("trip-parked"));
        await Assert.ThrowsAsync<WorkflowNotFoundException>(() => trips.DiscardDeadLetterAsync("no-such-trip"));
    }

    [Fact]
    public async Task An_id_of_another_workflow_s_run_is_refused_and_that_run_left_untouched()
    {
        var host = Host();
        var strict = host.Get<StrictClient>();
        await host.Get<TripClient>().StartAsync("ada", "trip-7");

        var refused = new Func<Task>[]
        {
            () => strict.GetDetailsAsync("trip-7"),
            () => strict.WaitForResultAsync("trip-7"),
            () => strict.CancelAsync("trip-7", "wrong client"),
            () => strict.GetDeadLetterAsync("trip-7"),
            () => strict.RetryDeadLetterAsync("trip-7"),
            () => strict.DiscardDeadLetterAsync("trip-7"),
        };
        foreach (var call in refused)
        {
            var error = await Assert.ThrowsAsync<WorkflowMismatchException>(call);
            Assert.Equal(("trip-7", "Strict", "Trip"), (error.WorkflowId, error.ExpectedWorkflow, error.ActualWorkflow));
            Assert.Equal("Run 'trip-7' is a run of workflow 'Trip', not of 'Strict'; nothing was done to it. Use the client of 'Trip', or IDurableClient.", error.Message);
        }

        var trip = (await host.Client.GetRunAsync("trip-7"))!;
        Assert.Equal((WorkflowStatus.Running, null), (trip.Status, trip.CancelReason));
    }

    [Fact]
    public async Task Wrong_empty_huge_and_hostile_ids_are_refused_or_not_found_never_acted_on()
    {
        var host = Host();
        var strict = host.Get<StrictClient>();

        await Assert.ThrowsAsync<ArgumentNullException>(() => strict.CancelAsync(null!));
        await Assert.ThrowsAsync<ArgumentException>(() => strict.GetDetailsAsync(""));
        await Assert.ThrowsAsync<ArgumentException>(() => strict.WaitForResultAsync(""));
        foreach (var id in new[] { new string('x', 256), "'; DELETE FROM runs; --", "run\u00e9-\u4e00-\U0001F600" })
        {
            Assert.Null(await strict.GetDetailsAsync(id));
            Assert.Equal(id, (await Assert.ThrowsAsync<WorkflowNotFoundException>(() => strict.CancelAsync(id))).WorkflowId);
        }

        Assert.Throws<ArgumentException>(() => strict.GetHandle(""));
        Assert.Throws<ArgumentNullException>(() => new StrictClient(null!));
    }

    [Fact]
    public async Task A_null_input_to_a_run_method_that_declares_a_non_nullable_one_is_refused_at_start_and_nothing_is_stored()
    {
        var host = Host();

        var error = await Assert.ThrowsAsync<ArgumentNullException>(() => host.Get<StrictClient>().StartAsync(null!, "null-1"));

        Assert.Equal("input", error.ParamName);
        Assert.Contains("Workflow 'Strict' v1 takes a non-nullable System.String; a null input is refused", error.Message, StringComparison.Ordinal);
        Assert.Null(await host.Client.GetRunAsync("null-1"));
    }

    [Theory]
    [InlineData("a\0b", "control character U+0000 at position 1")]
    [InlineData("line\nbreak", "control character U+000A at position 4")]
    [InlineData("lone-{D800}-surrogate", "lone UTF-16 surrogate U+D800 at position 5")]
    [InlineData("tail-{DC00}", "lone UTF-16 surrogate U+DC00 at position 5")]
    [InlineData(" ", "must not be empty or blank")]
    [InlineData("", "must not be empty or blank")]
    [InlineData("257", "is 257 characters long; the limit is 256")]
    public async Task Every_call_that_takes_a_workflow_id_refuses_a_malformed_one_the_same_way_on_every_store(string id, string problem)
    {
        // (Lone surrogates are spelled out: a test runner would turn them into U+FFFD on the way in.)
        id = id == "257" ? new string('x', 257) : id.Replace("{D800}", "\uD800", StringComparison.Ordinal).Replace("{DC00}", "\uDC00", StringComparison.Ordinal);
        var host = Host();
        var client = host.Client;
        Func<Task>[] calls =
        [
            () => client.GetRunAsync(id),
            () => client.GetRunDetailsAsync(id),
            () => client.WaitForResultAsync<int>(id),
            () => client.CancelAsync(id, "why"),
            () => client.SignalAsync(id, "go", 1),
            () => client.GetDeadLetterAsync(id),
            () => client.RetryDeadLetterAsync(id),
            () => client.DiscardDeadLetterAsync(id),
            () => client.ExportRunAsync(id),
            () => host.Engine.ExecuteAsync(id),
            () => host.Get<StrictClient>().StartAsync("input", id),
        ];

        foreach (var call in calls)
        {
            var error = await Assert.ThrowsAsync<ArgumentException>(call);
            Assert.Equal("workflowId", error.ParamName);
            Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        }

        Assert.Empty((await client.ListRunsAsync()).Runs);
    }
}

public sealed class InMemoryTypedClientTests : TypedClientTests
{
    private protected override TestStorage CreateStorage() => TestStorage.InMemory(Clock);
}

public sealed class SqliteTypedClientTests : TypedClientTests
{
    private protected override TestStorage CreateStorage() => TestStorage.Sqlite(Clock);
}

public sealed class PostgresTypedClientTests(PostgresDatabase database) : TypedClientTests, IClassFixture<PostgresDatabase>
{
    private protected override TestStorage CreateStorage() => TestStorage.Postgres(database, Clock, "typed");
}
