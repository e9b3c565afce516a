using System.Collections.Concurrent;
using Durably.Runtime.Journal;
using Durably.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Durably.Runtime.Tests.Replay;

/// <summary>
/// Side-by-side versions and version-aware claiming, unchanged on every store: new runs start on the highest
/// registered version and a run keeps its own; a worker claims only the versions its build registers; runs of a
/// version no worker has wait unclaimed and visible, said once — never a claim-and-fail loop.
/// </summary>
public abstract class VersioningTests : StoreTestBase
{
    private readonly VersionLog _log = new();
    private readonly ListLoggerFactory _logs = new();
    private readonly CollectingSink _alerts = new();

    /// <summary>A "build": a host over the shared store registering the given versions of Parcel.</summary>
    private TestHost Build(string worker, Action<IDurablyBuilder> versions) => Track(new TestHost(
        OpenStore(), versions,
        s => s.AddSingleton<TimeProvider>(Clock).AddSingleton(_log).AddSingleton<ILoggerFactory>(_logs).AddSingleton<IDurableAlertSink>(_alerts),
        worker));

    private TestHost OldBuild(string worker = "old") => Build(worker, d => d.AddWorkflow<ParcelV1>());

    private TestHost NewBuild(string worker = "new") => Build(worker, d => d.AddWorkflow<ParcelV1>().AddWorkflow<ParcelV2>());

    [Fact]
    public async Task New_runs_start_on_the_highest_registered_version_and_each_run_keeps_its_own()
    {
        var old = OldBuild();
        await old.Get<ParcelV1Client>().StartAsync("ada", "parcel-1");

        // The new build keeps v1 beside v2: its v1 client starts v2 runs (same input and result types).
        var next = NewBuild();
        await next.Get<ParcelV1Client>().StartAsync("bob", "parcel-2");
        await next.Get<ParcelV2Client>().StartAsync("cy", "parcel-3");

        var versions = await Task.WhenAll(new[] { "parcel-1", "parcel-2", "parcel-3" }.Select(async id => (await next.Client.GetRunAsync(id))!.Version));
        Assert.Equal([1, 2, 2], versions);

        // The drain view: what is in flight, per version and fingerprint.
        var drain = await next.Client.ListWorkflowVersionsAsync();
        Assert.Equal(
            [("Parcel", 1, ParcelV1.DurableDefinition.Fingerprint, 1L, 1L), ("Parcel", 2, ParcelV2.DurableDefinition.Fingerprint, 2L, 2L)],
            drain.Select(v => (v.WorkflowName, v.Version, v.Fingerprint, v.ActiveRuns, v.WaitingForWorker)));
        Assert.All(drain, v => Assert.Equal(Clock.GetUtcNow(), v.OldestStartedAt));
        foreach (var id in new[] { "parcel-1", "parcel-2", "parcel-3" })
        {
            Assert.Equal(WorkflowStatus.Completed, (await next.Engine.ExecuteAsync(id).WaitAsync(Wait.Timeout)).Status);
        }

        // Each run records the fingerprint of the contract it started on, shown in its details.
        Assert.Equal(ParcelV1.DurableDefinition.Fingerprint, (await next.Client.GetRunAsync("parcel-1"))!.Fingerprint);
        Assert.Equal(ParcelV2.DurableDefinition.Fingerprint, (await next.Get<ParcelV2Client>().GetDetailsAsync("parcel-2"))!.Run.Fingerprint);
        Assert.Matches("^[0-9a-f]{16}$", ParcelV2.DurableDefinition.Fingerprint);
        Assert.NotEqual(ParcelV1.DurableDefinition.Fingerprint, ParcelV2.DurableDefinition.Fingerprint);

        // The v1 run replayed nothing new and ran v1's code; the v2 runs ran v2's.
        Assert.Equal(["parcel-1:v1 label ada", "parcel-2:v2 weigh bob", "parcel-2:v2 label bob", "parcel-3:v2 weigh cy", "parcel-3:v2 label cy"], _log.Calls);
        Assert.Equal("v1 label ada", await next.Get<ParcelV1Client>().WaitForResultAsync("parcel-1"));
        Assert.Empty(await next.Client.ListWorkflowVersionsAsync());   // drained: v1's class can go
    }

    [Fact]
    public async Task A_start_through_an_old_version_s_client_is_refused_when_the_newest_takes_another_input()
    {
        var latest = Build("latest", d => d.AddWorkflow<ParcelV1>().AddWorkflow<ParcelV2>().AddWorkflow<ParcelV3>());

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => latest.Get<ParcelV2Client>().StartAsync("ada", "parcel-9"));

        Assert.Equal(
            "Workflow 'Parcel' v2 (Durably.Runtime.Tests.Support.ParcelV2) is kept to finish its runs in flight; new runs start on the highest registered version, "
            + "v3 (Durably.Runtime.Tests.Support.ParcelV3), which takes Durably.Runtime.Tests.Support.ParcelOrder and returns System.String. "
            + "Start runs with the client of ParcelV3.", refused.Message);
        Assert.Null(await latest.Client.GetRunAsync("parcel-9"));
        await latest.Get<ParcelV3Client>().StartAsync(new ParcelOrder("ada", 1200), "parcel-9");
        Assert.Equal(3, (await latest.Client.GetRunAsync("parcel-9"))!.Version);
    }

    [Fact]
    public async Task A_worker_lists_only_the_runs_of_versions_its_build_registers()
    {
        var next = NewBuild();
        await OldBuild().Get<ParcelV1Client>().StartAsync("ada", "parcel-1");
        await next.Get<ParcelV2Client>().StartAsync("bob", "parcel-2");
        var store = next.Store;

        Assert.Equal(["parcel-1"], await store.ListClaimableAsync("old", [new WorkflowVersion("Parcel", 1)], 10, default));
        Assert.Equal(["parcel-2"], await store.ListClaimableAsync("new", [new WorkflowVersion("Parcel", 2)], 10, default));
        Assert.Empty(await store.ListClaimableAsync("other", [new WorkflowVersion("Invoice", 1), new WorkflowVersion("Parcel", 7)], 10, default));
        Assert.Equal(["parcel-1", "parcel-2"], (await store.ListClaimableAsync("any", null, 10, default)).Order(StringComparer.Ordinal));
        Assert.Empty(await store.ListClaimableAsync("none", [], 10, default));

        var versions = await store.ListActiveVersionsAsync(default);
        Assert.Equal(
            [
                new ActiveWorkflowVersion(new WorkflowVersion("Parcel", 1), 1, 1, Clock.GetUtcNow(), false, ParcelV1.DurableDefinition.Fingerprint),
                new ActiveWorkflowVersion(new WorkflowVersion("Parcel", 2), 1, 1, Clock.GetUtcNow(), false, ParcelV2.DurableDefinition.Fingerprint),
            ],
            versions);

        // A worker says what it can run, until its advertisement lapses or it withdraws it.
        await store.AdvertiseAsync("new", [new WorkflowVersion("Parcel", 1), new WorkflowVersion("Parcel", 2)], TimeSpan.FromMinutes(1), default);
        await store.AdvertiseAsync("old", [new WorkflowVersion("Parcel", 1)], TimeSpan.FromMinutes(5), default);
        Assert.Equal([true, true], (await store.ListActiveVersionsAsync(default)).Select(v => v.HasLiveWorker));
        // (A second past the lifetime: PostgreSQL judges it by the database clock, a few milliseconds off the test's.)
        Clock.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        Assert.Equal([true, false], (await store.ListActiveVersionsAsync(default)).Select(v => v.HasLiveWorker));
        await store.AdvertiseAsync("old", [], TimeSpan.FromMinutes(5), default);
        Assert.Equal([false, false], (await store.ListActiveVersionsAsync(default)).Select(v => v.HasLiveWorker));
        await store.AdvertiseAsync("new", [new WorkflowVersion("Parcel", 2)], TimeSpan.FromMinutes(1), default);
        Assert.Equal([false, true], (await store.ListActiveVersionsAsync(default)).Select(v => v.HasLiveWorker));
        await store.AdvertiseAsync("new", [new WorkflowVersion("Parcel", 2)], TimeSpan.Zero, default);
        Assert.Equal([false, false], (await store.ListActiveVersionsAsync(default)).Select(v => v.HasLiveWorker));
    }

    [Fact]
    public async Task During_a_rolling_deploy_old_workers_finish_v1_runs_and_leave_v2_runs_to_new_workers()
    {
        var old = OldBuild();
        var next = NewBuild();
        await old.Get<ParcelV1Client>().StartAsync("ada", "parcel-1");
        await next.Get<ParcelV2Client>().StartAsync("bob", "parcel-2");

        // The old build's worker takes the v1 run and not the v2 run.
        await old.Worker.StartAsync(default);
        try
        {
            Assert.Equal("v1 label ada", await old.Client.WaitForResultAsync<string>("parcel-1").WaitAsync(Wait.Timeout));
            var waiting = (await old.Store.GetRunAsync("parcel-2", default))!;
            Assert.Equal((WorkflowStatus.Running, null), (waiting.Status, waiting.Owner));
            Assert.Empty((await old.Store.LoadAsync("parcel-2", default))!.Journal);
        }
        finally
        {
            await old.Worker.StopAsync(default);
        }

        // The new build's worker finishes it.
        await next.Worker.StartAsync(default);
        try
        {
            Assert.Equal("v2 label bob", await next.Client.WaitForResultAsync<string>("parcel-2").WaitAsync(Wait.Timeout));
        }
        finally
        {
            await next.Worker.StopAsync(default);
        }

        Assert.DoesNotContain(_logs.Log.Lines, line => line.StartsWith("Error", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Runs_of_a_version_no_worker_has_wait_unclaimed_and_visible_and_are_reported_once()
    {
        // Deployed without v2 while v2 runs were in flight (or started by a newer build that then went away).
        await NewBuild().Get<ParcelV2Client>().StartAsync("bob", "parcel-2");
        await NewBuild("newer").Get<ParcelV2Client>().StartAsync("cy", "parcel-3");
        var old = OldBuild();
        await old.Worker.StartAsync(default);
        try
        {
            // Ten minutes of polling, checking every 30 s: one warning, one alert, no claim, no error.
            await WorkAsync(TimeSpan.FromMinutes(10));

            await Wait.UntilAsync(() => _alerts.Received.Count > 0, "the missing version was never reported");
            await old.Engine.Context.Telemetry.Alerts.FlushAsync(Wait.Timeout);
        }
        finally
        {
            await old.Worker.StopAsync(default);
        }

        var alert = Assert.Single(_alerts.Received);
        Assert.Equal((DurableAlertKind.RunsWaitingForWorker, "Parcel", 2, "old", ""), (alert.Kind, alert.WorkflowName, alert.WorkflowVersion, alert.Worker, alert.WorkflowId));
        Assert.StartsWith("2 run(s) of workflow 'Parcel' v2 wait for a worker that can run them", alert.Summary, StringComparison.Ordinal);
        Assert.Contains("worker 'old' has 'Parcel' v1", alert.Summary, StringComparison.Ordinal);
        var warnings = _logs.Log.Lines.Where(line => line.StartsWith("Warning", StringComparison.Ordinal)).ToList();
        Assert.Single(warnings, line => line.Contains("wait for a worker that can run them", StringComparison.Ordinal));
        Assert.DoesNotContain(_logs.Log.Lines, line => line.StartsWith("Error", StringComparison.Ordinal));
        Assert.True(_logs.Log.Lines.Count < 10, "the worker logged " + _logs.Log.Lines.Count + " lines:\n" + string.Join("\n", _logs.Log.Lines));
        foreach (var id in new[] { "parcel-2", "parcel-3" })
        {
            var run = (await old.Store.GetRunAsync(id, default))!;
            Assert.Equal((WorkflowStatus.Running, null, 0L), (run.Status, run.Owner, run.Epoch));
        }
    }

    [Fact]
    public async Task Runs_that_a_live_worker_elsewhere_can_run_are_not_reported_until_it_is_gone()
    {
        await NewBuild().Get<ParcelV2Client>().StartAsync("bob", "parcel-2");
        var store = OpenStore();
        // Another process's worker has v2 (busy, say): its runs are waiting for it, not stranded.
        await store.AdvertiseAsync("busy-new-worker", [new WorkflowVersion("Parcel", 1), new WorkflowVersion("Parcel", 2)], TimeSpan.FromHours(1), default);
        var old = OldBuild();
        await old.Worker.StartAsync(default);
        try
        {
            await WorkAsync(TimeSpan.FromMinutes(5));

            await old.Engine.Context.Telemetry.Alerts.FlushAsync(Wait.Timeout);
            Assert.Empty(_alerts.Received);

            // That worker goes away (withdraws, or its advertisement lapses): now the runs are stranded, and said so once.
            await store.AdvertiseAsync("busy-new-worker", [], TimeSpan.Zero, default);
            await WorkAsync(TimeSpan.FromMinutes(2));

            await Wait.UntilAsync(() => _alerts.Received.Count > 0, "the stranded version was never reported");
        }
        finally
        {
            await old.Worker.StopAsync(default);
        }

        Assert.Equal((DurableAlertKind.RunsWaitingForWorker, 2), (Assert.Single(_alerts.Received).Kind, _alerts.Received[0].WorkflowVersion));
    }

    /// <summary>
    /// Lets an idle worker run for <paramref name="span"/> of the manual clock, 30 s at a time (its check interval), each
    /// step taken only once the worker waits again (its poll timer armed), so no check is skipped by racing ahead.
    /// </summary>
    private async Task WorkAsync(TimeSpan span)
    {
        for (var elapsed = TimeSpan.Zero; elapsed < span; elapsed += TimeSpan.FromSeconds(30))
        {
            await Clock.ArmedForAsync(Clock.GetUtcNow() + DurableOptions.DefaultPollInterval);
            Clock.Advance(TimeSpan.FromSeconds(30));
        }

        await Clock.ArmedForAsync(Clock.GetUtcNow() + DurableOptions.DefaultPollInterval);
    }

    private sealed class CollectingSink : IDurableAlertSink
    {
        private readonly ConcurrentQueue<DurableAlert> _received = new();

        public IReadOnlyList<DurableAlert> Received => [.. _received];

        public Task SendAsync(DurableAlert alert, CancellationToken cancellationToken)
        {
            _received.Enqueue(alert);
            return Task.CompletedTask;
        }
    }
}

public sealed class InMemoryVersioningTests : VersioningTests
{
    private protected override TestStorage CreateStorage() => TestStorage.InMemory(Clock);
}

public sealed class SqliteVersioningTests : VersioningTests
{
    private protected override TestStorage CreateStorage() => TestStorage.Sqlite(Clock);
}

public sealed class PostgresVersioningTests(PostgresDatabase database) : VersioningTests, IClassFixture<PostgresDatabase>
{
    private protected override TestStorage CreateStorage() => TestStorage.Postgres(database, Clock, "versions");
}
