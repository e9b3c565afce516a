using Durably.Runtime.Journal;
using Durably.Runtime.Stores;
using Durably.Runtime.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Durably.Runtime.Tests.Crash;

/// <summary>
/// A worker process whose parents have started their children is killed with SIGKILL while children's steps are in
/// flight; restarted under the same name, it finishes every family: each parent has exactly one child — the id derived
/// from the parent and the call, so the parent's replay found it rather than start another — and returns its result.
/// </summary>
public abstract class ChildKillTests : IDisposable
{
    private const int Families = 12;

    protected string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("durably-child-kill-").FullName;

    /// <summary>The helper's store argument: a SQLite file or "postgres:" and a connection string.</summary>
    protected abstract string StoreArgument { get; }

    protected abstract IWorkflowStore OpenStore();

    [Fact]
    public async Task A_worker_killed_while_children_run_finishes_every_family_with_one_child_each()
    {
        var bodies = await KillWhileBodiesRunThenFinishAsync("family-worker", "family");
        var store = OpenStore();
        try
        {
            var children = (IWorkflowStoreChildren)store;
            var all = await store.ListRunsAsync(new RunListQuery("FamilyChild", null, null, null, null, 1000), default);
            Assert.Equal(Families, all.Count);
            for (var family = 0; family < Families; family++)
            {
                var parent = (await store.GetRunAsync($"family-{family}", default))!;
                Assert.Equal((WorkflowStatus.Completed, $"\"parent got toy {family}\""), (parent.Status, parent.OutputJson));
                var child = Assert.Single(await children.ListChildrenAsync($"family-{family}", default));
                Assert.Equal(($"family-{family}/FamilyChild/0", 0L), (child.ChildId, child.ParentSequence));
                // The child's step ran once, or — cut by the kill before its journal write — twice with one key.
                var runs = bodies.Where(b => b.WorkflowId == child.ChildId && b.What == "start").ToList();
                Assert.InRange(runs.Count, 1, 2);
                Assert.Single(runs.Select(b => b.IdempotencyKey).Distinct());
            }
        }
        finally
        {
            await CloseAsync(store);
        }
    }

    [Fact]
    public async Task A_worker_killed_while_parents_roll_their_children_back_finishes_every_rollback_once()
    {
        var bodies = await KillWhileBodiesRunThenFinishAsync("undo-worker", "family-rollback");
        var store = OpenStore();
        try
        {
            for (var family = 0; family < Families; family++)
            {
                var parent = (await store.GetRunAsync($"undone-{family}", default))!;
                var child = (await store.GetRunAsync($"undone-{family}/UndoneFamilyChild/0", default))!;
                Assert.Equal((WorkflowStatus.Failed, WorkflowStatus.Cancelled), (parent.Status, child.Status));
                Assert.Equal($"parent run 'undone-{family}' rolled back", child.CancelReason);
                // The child's compensation ran once, or — cut by the kill before its journal write — twice with one key.
                var undos = bodies.Where(b => b.WorkflowId == child.WorkflowId && b.What == "start").ToList();
                Assert.InRange(undos.Count, 1, 2);
                Assert.Equal([$"undone-{family}/UndoneFamilyChild/0/Build/0/compensate"], undos.Select(b => b.IdempotencyKey).Distinct());
            }
        }
        finally
        {
            await CloseAsync(store);
        }
    }

    /// <summary>
    /// Runs the helper's <paramref name="mode"/> families, kills it (SIGKILL) once a third of them have started a body and
    /// one is in flight, then runs it again under the same worker name until every family is done; returns the bodies'
    /// log of both processes.
    /// </summary>
    private async Task<IReadOnlyList<BodyEvent>> KillWhileBodiesRunThenFinishAsync(string worker, string mode)
    {
        var bodyLog = Path.Combine(Directory, "bodies.log");
        using (var first = CrashHelperProcess.Start(StoreArgument, bodyLog, Families, worker, TimeSpan.FromSeconds(30), mode))
        {
            bool ReadyToKill()
            {
                var events = CrashHelperProcess.ReadBodyLog(bodyLog);
                return events.Count(e => e.What == "start") >= Families / 3 && CrashHelperProcess.InFlight(events).Any();
            }

            Assert.True(SpinWait.SpinUntil(() => first.HasExited || ReadyToKill(), TimeSpan.FromSeconds(60)), "the helper made no progress");
            Assert.False(first.HasExited, "the helper finished before it could be killed");
            first.Kill();
            await first.WaitForExitAsync();
        }

        SqliteConnection.ClearAllPools();
        using (var second = CrashHelperProcess.Start(StoreArgument, bodyLog, Families, worker, TimeSpan.FromSeconds(30), mode))
        {
            var output = second.StandardOutput.ReadToEndAsync();
            var errors = second.StandardError.ReadToEndAsync();
            if (!second.WaitForExit(TimeSpan.FromSeconds(120)))
            {
                second.Kill();
                Assert.Fail($"the second helper did not finish in 120 s; the runs: {await DescribeAsync()}");
            }

            Assert.True(second.ExitCode == 0, $"the second helper failed ({second.ExitCode}): {await output} {await errors}");
        }

        return CrashHelperProcess.ReadBodyLog(bodyLog);
    }

    private static async Task CloseAsync(IWorkflowStore store)
    {
        if (store is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync();
        }
        else
        {
            (store as IDisposable)?.Dispose();
        }
    }

    /// <summary>Every run's id, status and wake time, and every child link: what a stuck family looks like.</summary>
    private async Task<string> DescribeAsync()
    {
        var store = OpenStore();
        try
        {
            var runs = await store.ListRunsAsync(new RunListQuery(null, null, null, null, null, 1000), default);
            var links = await ((IWorkflowStoreChildren)store).GetParentsAsync([.. runs.Select(r => r.WorkflowId)], default);
            return string.Join("; ", runs.Select(r => $"{r.WorkflowId} {r.Status} wake={r.WakeAt:O}")) + " | links: " + string.Join("; ", links.Select(l => $"{l.ChildId}<-{l.ParentId}"));
        }
        finally
        {
            await CloseAsync(store);
        }
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        System.IO.Directory.Delete(Directory, recursive: true);
        GC.SuppressFinalize(this);
    }
}

public sealed class SqliteChildKillTests : ChildKillTests
{
    private string Database => Path.Combine(Directory, "journal.db");

    protected override string StoreArgument => Database;

    protected override IWorkflowStore OpenStore() => SqliteWorkflowStore.Open(Database);
}

public sealed class PostgresChildKillTests(PostgresDatabase database) : ChildKillTests, IClassFixture<PostgresDatabase>
{
    protected override string StoreArgument => "postgres:" + database.ConnectionString;

    protected override IWorkflowStore OpenStore() => PostgresWorkflowStore.Open(database.ConnectionString);
}
