using Durably.Runtime.Journal;
using Durably.Runtime.Stores;
using Durably.Runtime.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Durably.Runtime.Tests.Crash;

/// <summary>
/// A worker process running patched workflows is killed with SIGKILL while bodies of the patched region are in flight;
/// restarted, it resumes every run inside the new branch: the marker journaled before the branch is what the replay
/// finds, so no run falls back to the old branch or stops as non-deterministic, and no journaled step runs again.
/// </summary>
public sealed class PatchKillTests : IDisposable
{
    private const int Runs = 20;
    private readonly string _directory = Directory.CreateTempSubdirectory("durably-patch-kill-").FullName;

    [Fact]
    public async Task A_worker_killed_inside_a_patched_region_resumes_every_run_in_the_new_branch()
    {
        var database = Path.Combine(_directory, "journal.db");
        var bodyLog = Path.Combine(_directory, "bodies.log");
        using (var first = CrashHelperProcess.Start(database, bodyLog, Runs, "patch-worker", TimeSpan.FromSeconds(30), "patched"))
        {
            // Polled synchronously: kill once a quarter of the insurances started and one is between its start and its end.
            bool ReadyToKill()
            {
                var events = CrashHelperProcess.ReadBodyLog(bodyLog);
                return events.Count(e => e.What == "start") >= Runs / 4 && CrashHelperProcess.InFlight(events).Any();
            }

            Assert.True(await CrashHelperProcess.KillWhenAsync(first, ReadyToKill, TimeSpan.FromSeconds(60)),
                first.HasExited ? "the helper finished before it could be killed" : "the helper made no progress");
        }

        var cut = CrashHelperProcess.InFlight(CrashHelperProcess.ReadBodyLog(bodyLog)).ToList();
        Assert.NotEmpty(cut);
        SqliteConnection.ClearAllPools();

        using (var second = CrashHelperProcess.Start(database, bodyLog, Runs, "patch-worker", TimeSpan.FromSeconds(30), "patched"))
        {
            var output = await second.StandardOutput.ReadToEndAsync();
            await second.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
            Assert.True(second.ExitCode == 0, $"the second helper failed ({second.ExitCode}): {output} {await second.StandardError.ReadToEndAsync()}");
        }

        var bodies = CrashHelperProcess.ReadBodyLog(bodyLog);
        using var store = SqliteWorkflowStore.Open(database);
        for (var run = 0; run < Runs; run++)
        {
            var snapshot = (await store.LoadAsync($"patch-{run}", default))!;
            Assert.Equal(WorkflowStatus.Completed, snapshot.Run.Status);
            Assert.Equal("\"insured\"", snapshot.Run.OutputJson);
            Assert.Equal(
                [(0L, OperationKind.Step, "Pack"), (1L, OperationKind.Patch, "insure"), (2L, OperationKind.Step, "Insure"), (3L, OperationKind.Step, "Ship")],
                snapshot.Journal.Select(e => (e.Sequence, e.Kind, e.OperationId)));
            Assert.All(snapshot.Journal, e => Assert.Equal(JournalEntryState.Completed, e.State));
            // Each step ran once, or — cut by the kill before its journal write — twice with one key.
            foreach (var sequence in new[] { 0L, 2L, 3L })
            {
                var runs = bodies.Where(b => b.WorkflowId == $"patch-{run}" && b.Sequence == sequence && b.What is "pack" or "start" or "ship").ToList();
                Assert.InRange(runs.Count, 1, 2);
                Assert.Single(runs.Select(b => b.IdempotencyKey).Distinct());
            }
        }

        // The insurances the kill cut ran again, in the new branch, with the same key.
        Assert.All(cut, c => Assert.Equal(2, bodies.Count(b => b.What == "start" && b.WorkflowId == c.WorkflowId && b.Sequence == c.Sequence)));
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
