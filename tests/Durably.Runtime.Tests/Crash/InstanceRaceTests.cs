using Durably.Runtime.Journal;
using Durably.Runtime.Stores;
using Durably.Runtime.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Durably.Runtime.Tests.Crash;

/// <summary>
/// Two worker processes start the same forty single-instance keys at the same moment on one store (neither works on a
/// run until both have made their starts); the first seen with a body in flight is killed. Each key yields exactly one
/// run, the survivor finishes the runs the killed worker held, and no completed step ran again.
/// </summary>
public abstract class InstanceRaceTests : IDisposable
{
    private const int Keys = 40;
    private readonly string _directory = System.IO.Directory.CreateTempSubdirectory("durably-instance-race-").FullName;

    protected string Directory => _directory;

    protected abstract string Store { get; }

    protected abstract IWorkflowStore OpenJournal();

    [Fact]
    public async Task Two_workers_racing_to_start_the_same_keys_yield_one_run_per_key_even_when_one_is_killed()
    {
        var logs = new[] { Path.Combine(_directory, "a.log"), Path.Combine(_directory, "b.log") };
        var workers = new[]
        {
            CrashHelperProcess.Start(Store, logs[0], Keys, "a", TimeSpan.FromSeconds(2), "single"),
            CrashHelperProcess.Start(Store, logs[1], Keys, "b", TimeSpan.FromSeconds(2), "single"),
        };
        try
        {
            // Both make all their starts before either works on a run, so no run ends and frees its key meanwhile.
            foreach (var worker in workers)
            {
                Assert.Equal("started", await worker.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(120)));
            }

            foreach (var worker in workers)
            {
                await worker.StandardInput.WriteLineAsync("go");
                await worker.StandardInput.FlushAsync();
            }

            // Kill whichever worker is first seen with a body in flight; the other survives.
            var victimIndex = -1;
            Assert.True(SpinWait.SpinUntil(() =>
            {
                victimIndex = Array.FindIndex(logs, log => CrashHelperProcess.InFlight(CrashHelperProcess.ReadBodyLog(log)).Any());
                return victimIndex >= 0 || workers.All(w => w.HasExited);
            }, TimeSpan.FromSeconds(120)), "the workers made no progress");
            Assert.True(victimIndex >= 0, "both workers finished before either could be killed");
            var victim = workers[victimIndex];
            Assert.False(victim.HasExited, "the worker to kill exited first");
            victim.Kill();
            await victim.WaitForExitAsync();

            var survivor = workers[1 - victimIndex];
            var output = survivor.StandardOutput.ReadToEndAsync();
            await survivor.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(180));
            Assert.True(survivor.ExitCode == 0, $"the surviving worker failed ({survivor.ExitCode}): {await output} {await survivor.StandardError.ReadToEndAsync()}");

            var journal = OpenJournal();
            try
            {
                var runs = (await journal.ListRunsAsync(new RunListQuery("CrashWorkflow", null, null, null, null, 1000), default)).ToList();
                Assert.Equal(Keys, runs.Count);
                Assert.Equal(Enumerable.Range(0, Keys).Select(i => $"key-{i}").Order(), runs.Select(r => r.InstanceKey!).Order());
                Assert.All(runs, r => Assert.Equal(WorkflowStatus.Completed, r.Status));
                Assert.All(runs, r => Assert.Matches(@"^single-[ab]-\d+$", r.WorkflowId));
                Assert.All(runs, r => Assert.EndsWith("-" + r.InstanceKey!["key-".Length..], r.WorkflowId, StringComparison.Ordinal));

                // Every body of every run: at most twice (once cut by the kill), always before its completion was journaled.
                var bodies = logs.SelectMany(CrashHelperProcess.ReadBodyLog).Where(e => e.What == "start").ToLookup(e => (e.WorkflowId, e.Sequence));
                foreach (var run in runs)
                {
                    var snapshot = (await journal.LoadAsync(run.WorkflowId, default))!;
                    Assert.All(snapshot.Journal, row => Assert.InRange(bodies[(row.WorkflowId, row.Sequence)].Count(), 1, 2));
                }

                Assert.DoesNotContain(bodies, g => !runs.Any(r => r.WorkflowId == g.Key.WorkflowId));
            }
            finally
            {
                (journal as IDisposable)?.Dispose();
                if (journal is IAsyncDisposable asyncDisposable)
                {
                    await asyncDisposable.DisposeAsync();
                }
            }
        }
        finally
        {
            foreach (var worker in workers)
            {
                if (!worker.HasExited)
                {
                    worker.Kill();
                }

                worker.Dispose();
            }
        }
    }

    public virtual void Dispose()
    {
        System.IO.Directory.Delete(_directory, recursive: true);
        GC.SuppressFinalize(this);
    }
}

public sealed class SqliteInstanceRaceTests : InstanceRaceTests
{
    protected override string Store => Path.Combine(Directory, "race.db");

    protected override IWorkflowStore OpenJournal() => SqliteWorkflowStore.Open(Store);

    public override void Dispose()
    {
        SqliteConnection.ClearAllPools();
        base.Dispose();
    }
}

public sealed class PostgresInstanceRaceTests(PostgresDatabase database) : InstanceRaceTests, IClassFixture<PostgresDatabase>
{
    protected override string Store => "postgres:" + database.ConnectionString;

    protected override IWorkflowStore OpenJournal() => PostgresWorkflowStore.Open(database.ConnectionString);
}
