using Durably.Runtime.Tests.Observability;
using Durably.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime.Tests.Replay;

/// <summary>
/// A run's published status and its steps' progress, the same on every store, on the test's manual clock: the status
/// rides on the run's next write and is not written again by a replay; progress from a tight loop costs one write at
/// once and one per interval, the latest winning; both read typed through the client and in run details.
/// </summary>
public abstract class StatusAndProgressTests : StoreTestBase
{
    private readonly BodyLog _log = new();

    private TestHost Host(Gate gate, string worker = "status-worker") => Track(new TestHost(
        OpenStore(), d => d.AddWorkflow<StatusImport>().AddWorkflow<OversizedStatus>(),
        s => s.AddSingleton(_log).AddSingleton(gate).AddSingleton<TimeProvider>(Clock),
        worker,
        o => o.UnloadThreshold = TimeSpan.Zero));

    [Fact]
    public async Task The_status_rides_on_the_runs_writes_reads_typed_and_a_replay_writes_it_no_second_time()
    {
        var first = Host(Gate.Open());
        await first.Get<StatusImportClient>().StartAsync(3, "import-1");
        var started = Clock.GetUtcNow();

        // Runs until it waits for "go", then unloads: the status "read" went with the signal wait's row.
        Assert.Equal(ExecutionOutcome.Unloaded, (await first.Engine.ExecuteAsync("import-1").WaitAsync(Wait.Timeout)).Outcome);
        var progress = (await first.Get<StatusImportClient>().GetProgressAsync<ImportStatus>("import-1"))!;
        Assert.Equal((WorkflowStatus.Running, true, new ImportStatus("read", 3), started), (progress.RunStatus, progress.HasStatus, progress.Status, progress.StatusUpdatedAt));
        Assert.Empty(progress.Steps);
        var details = (await first.Client.GetRunDetailsAsync("import-1"))!;
        Assert.Equal(("""{"Stage":"read","Rows":3}""", started), (details.StatusJson, details.StatusUpdatedAt));

        // A later process replays "reading" and "read": the store has "read", so nothing is written again — its time stays.
        Clock.Advance(TimeSpan.FromMinutes(1));
        var second = Host(Gate.Open(), "second-worker");
        Assert.True(await second.Client.SignalAsync("import-1", "go", "now"));
        Assert.Equal(ExecutionOutcome.Unloaded, (await second.Engine.ExecuteAsync("import-1").WaitAsync(Wait.Timeout)).Outcome);
        progress = (await second.Get<StatusImportClient>().GetProgressAsync<ImportStatus>("import-1"))!;
        Assert.Equal((new ImportStatus("read", 3), started), (progress.Status, progress.StatusUpdatedAt));

        // The last status goes with the run's end.
        Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.True(await second.Client.SignalAsync("import-1", "finish", "now"));
        Assert.Equal(WorkflowStatus.Completed, (await second.Engine.ExecuteAsync("import-1").WaitAsync(Wait.Timeout)).Status);
        progress = (await second.Get<StatusImportClient>().GetProgressAsync<ImportStatus>("import-1"))!;
        Assert.Equal((WorkflowStatus.Completed, new ImportStatus("done", 3), Clock.GetUtcNow()), (progress.RunStatus, progress.Status, progress.StatusUpdatedAt));
        Assert.Equal((1, 1), (_log.Count("Read"), _log.Count("Load")));
    }

    [Fact]
    public async Task A_step_reporting_ten_thousand_times_in_a_tight_loop_writes_once_at_once_and_once_when_the_interval_has_passed()
    {
        var gate = new Gate();
        var host = Host(gate);
        using var metrics = new TelemetryTests.Measurements(host.Engine.Context.Telemetry.Meter);
        await host.Get<StatusImportClient>().StartAsync(10_000, "import-big");
        Assert.True(await host.Client.SignalAsync("import-big", "go", "now"));
        var execution = host.Engine.ExecuteAsync("import-big");
        await gate.Arrived.WaitAsync(Wait.Timeout);

        // The loop is over: its first report was written at once, the 9,999 others wait for the interval.
        var load = await Wait.UntilAsync(async () => (await host.Client.GetRunDetailsAsync("import-big"))!.CurrentOperations.SingleOrDefault(o => o.Progress is not null),
            "the first progress report was never written");
        Assert.Equal(("Load", new StepProgress(0.0001, "row 1 of 10000", Clock.GetUtcNow())), (load.Name, load.Progress));
        Assert.Equal(1, metrics.Sum("durably.progress.writes"));

        Clock.Advance(DurableOptions.DefaultProgressInterval);
        var latest = await Wait.UntilAsync(async () => (await host.Client.GetProgressAsync<ImportStatus>("import-big"))!.Steps.SingleOrDefault(s => s.Progress?.Fraction == 1.0),
            "the latest progress report was never written after the interval");
        Assert.Equal("row 10000 of 10000", latest.Progress!.Message);
        Assert.Equal(2, metrics.Sum("durably.progress.writes"));

        // Nothing new to say: another interval writes nothing. Once the step is done, its progress is no longer shown.
        Clock.Advance(DurableOptions.DefaultProgressInterval);
        gate.Release();
        Assert.Equal(ExecutionOutcome.Unloaded, (await execution.WaitAsync(Wait.Timeout)).Outcome);
        Assert.Equal(2, metrics.Sum("durably.progress.writes"));
        var done = (await host.Client.GetRunDetailsAsync("import-big"))!;
        Assert.All(done.Operations, o => Assert.Null(o.Progress));
        Assert.Empty((await host.Client.GetProgressAsync<ImportStatus>("import-big"))!.Steps);
    }

    [Fact]
    public async Task A_status_read_as_the_wrong_type_is_refused_naming_both_and_a_run_without_one_reads_as_none()
    {
        var host = Host(Gate.Open());
        await host.Get<StatusImportClient>().StartAsync(2, "import-types");
        await host.Engine.ExecuteAsync("import-types").WaitAsync(Wait.Timeout);

        var wrong = await Assert.ThrowsAsync<ArgumentException>(() => host.Client.GetProgressAsync<int>("import-types"));
        Assert.Contains("The status of run 'import-types' cannot be read as type 'System.Int32'", wrong.Message, StringComparison.Ordinal);
        Assert.Null(await host.Client.GetProgressAsync<ImportStatus>("no-such-run"));

        await host.Get<OversizedStatusClient>().StartAsync(10, "quiet");
        await host.Engine.ExecuteAsync("quiet").WaitAsync(Wait.Timeout);
        var quiet = (await host.Client.GetProgressAsync<string>("quiet"))!;
        Assert.Equal((WorkflowStatus.Completed, true, "xxxxxxxxxx"), (quiet.RunStatus, quiet.HasStatus, quiet.Status));

        // A null status clears it: the run reads as having none.
        await host.Get<OversizedStatusClient>().StartAsync(-1, "cleared");
        await host.Engine.ExecuteAsync("cleared").WaitAsync(Wait.Timeout);
        var cleared = (await host.Client.GetProgressAsync<string>("cleared"))!;
        Assert.Equal((WorkflowStatus.Completed, false, (string?)null), (cleared.RunStatus, cleared.HasStatus, cleared.Status));
        Assert.Null((await host.Client.GetRunDetailsAsync("cleared"))!.StatusJson);
    }

    [Fact]
    public async Task A_status_that_cannot_be_serialised_is_refused_in_the_run_method_naming_its_type()
    {
        var host = Host(Gate.Open());
        await host.Get<OversizedStatusClient>().StartAsync(-2, "unserialisable");
        await host.Engine.ExecuteAsync("unserialisable").WaitAsync(Wait.Timeout);

        var message = await host.Client.WaitForResultAsync<string>("unserialisable");
        Assert.StartsWith("The status of run 'unserialisable' of workflow 'OversizedStatus' v1 (Workflow.SetStatus) cannot be serialised as JSON: type 'System.Func<System.Int32>'", message, StringComparison.Ordinal);
        Assert.Null((await host.Client.GetRunDetailsAsync("unserialisable"))!.StatusJson);
    }

    [Fact]
    public async Task A_status_over_the_size_limit_is_refused_in_the_run_method_naming_its_size()
    {
        var host = Host(Gate.Open());
        await host.Get<OversizedStatusClient>().StartAsync(Workflow.MaxStatusBytes, "too-big");
        await host.Engine.ExecuteAsync("too-big").WaitAsync(Wait.Timeout);

        var message = await host.Client.WaitForResultAsync<string>("too-big");
        Assert.Equal($"The status of run 'too-big' of workflow 'OversizedStatus' v1 (Workflow.SetStatus) is {Workflow.MaxStatusBytes + 2} bytes as JSON, over the limit of {Workflow.MaxStatusBytes} bytes (Workflow.MaxStatusBytes); keep it small.", message);
        var details = (await host.Client.GetRunDetailsAsync("too-big"))!;
        Assert.Equal((null, null), (details.StatusJson, details.StatusUpdatedAt));
    }
}

public sealed class InMemoryStatusAndProgressTests : StatusAndProgressTests
{
    private protected override TestStorage CreateStorage() => TestStorage.InMemory(Clock);
}

public sealed class SqliteStatusAndProgressTests : StatusAndProgressTests
{
    private protected override TestStorage CreateStorage() => TestStorage.Sqlite(Clock);
}

public sealed class PostgresStatusAndProgressTests(PostgresDatabase database) : StatusAndProgressTests, IClassFixture<PostgresDatabase>
{
    private protected override TestStorage CreateStorage() => TestStorage.Postgres(database, Clock, "status");
}
