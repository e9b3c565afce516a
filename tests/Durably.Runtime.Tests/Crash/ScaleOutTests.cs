using Durably.Runtime.Journal;
using Durably.Runtime.Stores;
using Durably.Runtime.Tests.Support;

namespace Durably.Runtime.Tests.Crash;

/// <summary>
/// Three worker processes share one PostgreSQL database and run 500 five-step workflows; one is killed with SIGKILL
/// mid-way. The other two take over its runs once its lease has expired, and every run completes with the guarantee of
/// DESIGN §2: one completed row per step, no body started after its completion was journaled, and a body cut by the
/// kill ran at most twice, both times with the same idempotency key.
/// </summary>
public sealed class ScaleOutTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IDisposable
{
    private const int Runs = 500;
    private const int StepsPerRun = 5;
    private readonly string _directory = Directory.CreateTempSubdirectory("durably-scale-out-").FullName;

    [Fact]
    public async Task Three_workers_share_one_database_and_a_SIGKILL_of_one_loses_nothing()
    {
        var store = "postgres:" + database.ConnectionString;
        var logs = Enumerable.Range(1, 3).Select(i => Path.Combine(_directory, $"bodies-{i}.log")).ToArray();
        var workers = Enumerable.Range(1, 3).Select(i => CrashHelperProcess.Start(store, logs[i - 1], Runs, $"worker-{i}", TimeSpan.FromSeconds(2))).ToArray();
        try
        {
            // Kill worker 1 once a quarter of all bodies have started and one of its own is in flight.
            bool ReadyToKill()
            {
                var started = logs.Sum(log => CrashHelperProcess.ReadBodyLog(log).Count(e => e.What == "start"));
                return started >= Runs * StepsPerRun / 4 && CrashHelperProcess.InFlight(CrashHelperProcess.ReadBodyLog(logs[0])).Any();
            }

            var victim = workers[0];
            Assert.True(await CrashHelperProcess.KillWhenAsync(victim, ReadyToKill, TimeSpan.FromSeconds(120)),
                victim.HasExited ? "worker 1 exited before it could be killed" : "the workers made no progress");
            var cut = CrashHelperProcess.InFlight(CrashHelperProcess.ReadBodyLog(logs[0])).ToList();
            Assert.NotEmpty(cut);

            foreach (var survivor in workers[1..])
            {
                var output = survivor.StandardOutput.ReadToEndAsync();
                await survivor.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(180));
                Assert.True(survivor.ExitCode == 0, $"a surviving worker failed ({survivor.ExitCode}): {await output} {await survivor.StandardError.ReadToEndAsync()}");
            }

            var bodies = logs.SelectMany((log, worker) => CrashHelperProcess.ReadBodyLog(log).Where(e => e.What == "start").Select(e => (Worker: worker + 1, Body: e))).ToList();
            var byKey = bodies.ToLookup(b => (b.Body.WorkflowId, b.Body.Sequence));
            await using var journal = PostgresWorkflowStore.Open(database.ConnectionString);
            var rerun = 0;
            for (var run = 0; run < Runs; run++)
            {
                var snapshot = (await journal.LoadAsync($"crash-{run}", default))!;
                Assert.Equal(WorkflowStatus.Completed, snapshot.Run.Status);
                Assert.Equal(Enumerable.Range(0, StepsPerRun).Select(i => (long)i), snapshot.Journal.Select(e => e.Sequence));
                foreach (var row in snapshot.Journal)
                {
                    Assert.Equal(JournalEntryState.Completed, row.State);
                    var runsOfBody = byKey[(row.WorkflowId, row.Sequence)].ToList();
                    Assert.InRange(runsOfBody.Count, 1, 2);
                    Assert.Single(runsOfBody.Select(b => b.Body.IdempotencyKey).Distinct());
                    Assert.All(runsOfBody, b => Assert.True(b.Body.At <= row.CompletedAt!.Value.ToUnixTimeMilliseconds(),
                        $"a body of {row.WorkflowId}/{row.Sequence} started at {b.Body.At}, after its completion was journaled at {row.CompletedAt:O}"));
                    if (runsOfBody.Count == 2)
                    {
                        // Only a body the kill cut runs twice: once in the killed worker, once in the one that took over.
                        Assert.Contains(runsOfBody, b => b.Worker == 1);
                        rerun++;
                    }
                }
            }

            // Every body cut mid-way by the kill was run again by a survivor.
            Assert.All(cut, c => Assert.Equal(2, byKey[(c.WorkflowId, c.Sequence)].Count()));
            Assert.InRange(rerun, cut.Count, 4); // worker 1 ran at most 4 runs at once, each one step at a time
            Assert.All(Enumerable.Range(2, 2), w => Assert.Contains(bodies, b => b.Worker == w));
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

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
