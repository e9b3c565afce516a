using Durably.Runtime.Journal;
using Durably.Runtime.Stores;
using Durably.Runtime.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Durably.Runtime.Tests.Crash;

/// <summary>
/// A real process runs workflows on a SQLite file and is killed with SIGKILL while step bodies are in flight; a
/// second process with the same worker name finishes every run. The journal and the bodies' side log must show the
/// guarantee: one completed row per step, no body started after its completion was journaled, and a body cut by
/// the kill ran at most twice, both times with the same idempotency key.
/// </summary>
public sealed class KillTests : IDisposable
{
    private const int Runs = 40;
    private const int StepsPerRun = 5;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durably-crash-" + Guid.NewGuid().ToString("N"));

    public KillTests() => Directory.CreateDirectory(_directory);

    [Fact]
    public async Task A_worker_killed_mid_step_loses_nothing_and_repeats_no_journaled_step()
    {
        var database = Path.Combine(_directory, "journal.db");
        var bodyLog = Path.Combine(_directory, "bodies.log");

        using (var first = CrashHelperProcess.Start(database, bodyLog, Runs, "crash-worker"))
        {
            // Kill once a good part of the work is done and at least one body is between its start and its end.
            // Polled synchronously on this thread: a thread-pool delay could let the helper finish first.
            bool ReadyToKill()
            {
                var events = CrashHelperProcess.ReadBodyLog(bodyLog);
                return events.Count(e => e.What == "start") >= Runs * StepsPerRun / 4 && CrashHelperProcess.InFlight(events).Any();
            }

            Assert.True(SpinWait.SpinUntil(() => first.HasExited || ReadyToKill(), TimeSpan.FromSeconds(60)), "the helper made no progress");
            if (first.HasExited)
            {
                Assert.Fail($"the helper finished (exit {first.ExitCode}) before it could be killed, after {CrashHelperProcess.ReadBodyLog(bodyLog).Count} body events: {first.StandardError.ReadToEnd()}");
            }

            first.Kill();
            await first.WaitForExitAsync();
        }

        // Cut by the kill: every operation whose completion was not journaled yet. A body may have finished (even
        // logged its end) and still be cut, if the kill came between its end and its journal write. Its attempting row
        // may be there or not: a plain step's row is sent as its body starts and not waited for (docs/guarantees.md,
        // "What a process crash can now lose"). Its outcome is never there.
        var inFlight = CrashHelperProcess.InFlight(CrashHelperProcess.ReadBodyLog(bodyLog)).ToList();
        Assert.NotEmpty(inFlight);
        var (finished, cut) = (new HashSet<(string WorkflowId, long Sequence)>(), new HashSet<(string WorkflowId, long Sequence)>());
        using (var atKill = SqliteWorkflowStore.Open(database))
        {
            for (var run = 0; run < Runs; run++)
            {
                foreach (var row in (await atKill.LoadAsync($"crash-{run}", default))!.Journal)
                {
                    (row.IsTerminal ? finished : cut).Add((row.WorkflowId, row.Sequence));
                }
            }
        }

        SqliteConnection.ClearAllPools();
        Assert.All(inFlight, b => Assert.DoesNotContain((b.WorkflowId, b.Sequence), finished));

        using (var second = CrashHelperProcess.Start(database, bodyLog, Runs, "crash-worker"))
        {
            var output = await second.StandardOutput.ReadToEndAsync();
            await second.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
            Assert.True(second.ExitCode == 0, $"the second helper failed ({second.ExitCode}): {output} {await second.StandardError.ReadToEndAsync()}");
        }

        var bodies = CrashHelperProcess.ReadBodyLog(bodyLog).Where(e => e.What == "start").ToList();

        // Every body the kill stopped mid-way was run again by the second process, with the same key.
        Assert.All(inFlight, c => Assert.Equal(2, bodies.Count(b => b.WorkflowId == c.WorkflowId && b.Sequence == c.Sequence)));
        using var store = SqliteWorkflowStore.Open(database);
        for (var run = 0; run < Runs; run++)
        {
            var snapshot = await store.LoadAsync($"crash-{run}", default);
            Assert.NotNull(snapshot);
            Assert.Equal(WorkflowStatus.Completed, snapshot.Run.Status);
            Assert.Equal(Enumerable.Range(0, StepsPerRun).Select(i => (long)i), snapshot.Journal.Select(e => e.Sequence));
            foreach (var row in snapshot.Journal)
            {
                Assert.Equal(JournalEntryState.Completed, row.State);
                var runs = bodies.Where(b => b.WorkflowId == row.WorkflowId && b.Sequence == row.Sequence).ToList();
                Assert.InRange(runs.Count, 1, 2);
                Assert.Single(runs.Select(b => b.IdempotencyKey).Distinct());
                Assert.All(runs, b => Assert.True(b.At <= row.CompletedAt!.Value.ToUnixTimeMilliseconds(),
                    $"a body of {row.WorkflowId}/{row.Sequence} started at {b.At}, after its completion was journaled at {row.CompletedAt:O}"));
                if (runs.Count == 2)
                {
                    // Cut by the kill: the second run counts as a second attempt when the first one's row had arrived,
                    // and as the same attempt again when it had not.
                    Assert.DoesNotContain((row.WorkflowId, row.Sequence), finished);
                    Assert.Equal(cut.Contains((row.WorkflowId, row.Sequence)) ? 2 : 1, row.Attempts);
                }
            }
        }
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
