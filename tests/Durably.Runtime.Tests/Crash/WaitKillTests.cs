using Durably.Runtime.Journal;
using Durably.Runtime.Stores;
using Durably.Runtime.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Durably.Runtime.Tests.Crash;

/// <summary>
/// A worker process is killed with SIGKILL while a run waits. A sleeping run neither loses its wait nor starts it again
/// after the restart: the timer fires at the wake time journaled before the kill. A signal sent while no worker runs is
/// kept and delivered after the restart.
/// </summary>
public sealed class WaitKillTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("durably-timer-kill-").FullName;

    [Fact]
    public async Task A_run_sleeping_through_a_kill_wakes_at_its_journaled_time_after_the_restart()
    {
        var database = Path.Combine(_directory, "journal.db");
        var bodyLog = Path.Combine(_directory, "bodies.log");
        var nap = TimeSpan.FromSeconds(3);
        JournalEntry timer;
        using (var store = SqliteWorkflowStore.Open(database))
        using (var first = CrashHelperProcess.Start(database, bodyLog, 1, "napper", workflow: Nap(nap)))
        {
            JournalEntry? pending = null;
            Assert.True(SpinWait.SpinUntil(() =>
            {
                pending = store.LoadAsync("nap-0", default).GetAwaiter().GetResult()?.Journal.FirstOrDefault(e => e.Kind == OperationKind.Timer);
                return pending is not null || first.HasExited;
            }, TimeSpan.FromSeconds(60)), "the helper never reached its timer");
            Assert.False(first.HasExited, "the helper exited before it could be killed");
            first.Kill();
            await first.WaitForExitAsync();
            timer = pending!;
        }

        SqliteConnection.ClearAllPools();
        Assert.Equal(JournalEntryState.Attempting, timer.State);
        using (var second = CrashHelperProcess.Start(database, bodyLog, 1, "napper", workflow: Nap(nap)))
        {
            await second.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.True(second.ExitCode == 0, $"the restarted helper failed ({second.ExitCode}): {await second.StandardError.ReadToEndAsync()}");
        }

        using var after = SqliteWorkflowStore.Open(database);
        var snapshot = (await after.LoadAsync("nap-0", default))!;
        Assert.Equal(WorkflowStatus.Completed, snapshot.Run.Status);
        Assert.All(snapshot.Journal, e => Assert.Equal(JournalEntryState.Completed, e.State));
        var fired = snapshot.Journal.Single(e => e.Kind == OperationKind.Timer);
        var wakeAt = DateTimeOffset.Parse(timer.InputJson!.Trim('"'), System.Globalization.CultureInfo.InvariantCulture);

        // The same wake time as before the kill, and the timer fired at it, not before.
        Assert.Equal(timer.InputJson, fired.InputJson);
        Assert.True(fired.CompletedAt >= wakeAt, $"the timer fired at {fired.CompletedAt:O}, before its wake time {wakeAt:O}");
        Assert.True(fired.CompletedAt < wakeAt + TimeSpan.FromSeconds(30), $"the timer fired at {fired.CompletedAt:O}, long after {wakeAt:O}: was the wait restarted?");
        var bodies = CrashHelperProcess.ReadBodyLog(bodyLog);
        Assert.Equal(["before", "after"], bodies.Select(b => b.What));
    }

    [Fact]
    public async Task A_kill_during_a_retry_backoff_resumes_the_retry_at_its_journaled_time()
    {
        var database = Path.Combine(_directory, "journal.db");
        var bodyLog = Path.Combine(_directory, "bodies.log");
        JournalEntry backoff;
        using (var store = SqliteWorkflowStore.Open(database))
        using (var first = CrashHelperProcess.Start(database, bodyLog, 1, "retrier", workflow: "backoff"))
        {
            JournalEntry? pending = null;
            Assert.True(SpinWait.SpinUntil(() =>
            {
                pending = store.LoadAsync("backoff-0", default).GetAwaiter().GetResult()?.Journal.FirstOrDefault(e => e.RetryAt is not null);
                return pending is not null || first.HasExited;
            }, TimeSpan.FromSeconds(60)), "the helper never reached its backoff");
            Assert.False(first.HasExited, "the helper exited before it could be killed");
            first.Kill();
            await first.WaitForExitAsync();
            backoff = pending!;
        }

        SqliteConnection.ClearAllPools();
        Assert.Equal((JournalEntryState.Attempting, 1, "gateway busy"), (backoff.State, backoff.Attempts, backoff.Error!.Message));
        using (var second = CrashHelperProcess.Start(database, bodyLog, 1, "retrier", workflow: "backoff"))
        {
            await second.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.True(second.ExitCode == 0, $"the restarted helper failed ({second.ExitCode}): {await second.StandardError.ReadToEndAsync()}");
        }

        using var after = SqliteWorkflowStore.Open(database);
        var row = (await after.LoadAsync("backoff-0", default))!.Journal.Single();
        Assert.Equal((JournalEntryState.Completed, 2, "2"), (row.State, row.Attempts, row.OutputJson));

        // The second attempt started at the retry time journaled before the kill: not before it (shortened), and not a
        // whole backoff after the restart (lost and begun again).
        var attempts = CrashHelperProcess.ReadBodyLog(bodyLog);
        Assert.Equal([1, 2], attempts.Select(a => a.Attempt));
        var retriedAt = DateTimeOffset.FromUnixTimeMilliseconds(attempts[1].At);
        Assert.True(retriedAt >= backoff.RetryAt, $"the retry ran at {retriedAt:O}, before its journaled time {backoff.RetryAt:O}");
        Assert.True(retriedAt < backoff.RetryAt + TimeSpan.FromSeconds(30), $"the retry ran at {retriedAt:O}, long after {backoff.RetryAt:O}");
    }

    [Fact]
    public async Task A_kill_during_a_rollback_is_finished_after_the_restart_with_each_compensation_completed_once()
    {
        var database = Path.Combine(_directory, "journal.db");
        var bodyLog = Path.Combine(_directory, "bodies.log");
        using (var store = SqliteWorkflowStore.Open(database))
        using (var first = CrashHelperProcess.Start(database, bodyLog, 1, "roller", workflow: "rollback"))
        {
            // Kill once the first compensation (of the last booking, sequence 2) is journaled and the next one has begun.
            Assert.True(SpinWait.SpinUntil(() =>
                (store.LoadAsync("rollback-0", default).GetAwaiter().GetResult()?.Journal.Any(e => e is { Sequence: -3, State: JournalEntryState.Completed }) ?? false)
                || first.HasExited, TimeSpan.FromSeconds(60)), "the helper never compensated");
            Assert.False(first.HasExited, "the helper exited before it could be killed");
            first.Kill();
            await first.WaitForExitAsync();
        }

        SqliteConnection.ClearAllPools();
        var beforeRestart = CrashHelperProcess.ReadBodyLog(bodyLog).Count;
        using (var second = CrashHelperProcess.Start(database, bodyLog, 1, "roller", workflow: "rollback"))
        {
            await second.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.True(second.ExitCode == 0, $"the restarted helper failed ({second.ExitCode}): {await second.StandardError.ReadToEndAsync()}");
        }

        using var after = SqliteWorkflowStore.Open(database);
        var run = (await after.LoadAsync("rollback-0", default))!;
        Assert.Equal(WorkflowStatus.Failed, run.Run.Status);
        var compensations = run.Journal.Where(e => e.Kind == OperationKind.Compensation).OrderBy(e => e.Sequence).ToList();
        Assert.Equal([(-3L, JournalEntryState.Completed), (-2L, JournalEntryState.Completed), (-1L, JournalEntryState.Completed)],
            compensations.Select(e => (e.Sequence, e.State)));

        // The bookings ran once each; the compensation completed before the kill never ran again; all ran newest first.
        var events = CrashHelperProcess.ReadBodyLog(bodyLog);
        Assert.Equal([0L, 1L, 2L], events.Where(e => e.What == "book").Select(e => e.Sequence));
        Assert.Equal(1, events.Count(e => e is { What: "undo-start", Sequence: 2 }));
        Assert.DoesNotContain(events.Skip(beforeRestart), e => e.Sequence == 2);
        Assert.Equal([2L, 1L, 0L], events.Where(e => e.What == "undo-start").Select(e => e.Sequence).Distinct());
        Assert.All(events.Where(e => e.What.StartsWith("undo", StringComparison.Ordinal)), e => Assert.EndsWith("/compensate", e.IdempotencyKey, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_signal_sent_while_no_worker_runs_is_delivered_after_the_restart()
    {
        var database = Path.Combine(_directory, "journal.db");
        var bodyLog = Path.Combine(_directory, "bodies.log");
        using (var store = SqliteWorkflowStore.Open(database))
        using (var first = CrashHelperProcess.Start(database, bodyLog, 1, "waiter", workflow: "signal"))
        {
            Assert.True(SpinWait.SpinUntil(() =>
                first.HasExited
                || store.LoadAsync("signal-0", default).GetAwaiter().GetResult()?.Journal.Any(e => e.Kind == OperationKind.Signal) == true,
                TimeSpan.FromSeconds(60)), "the helper never reached its wait");
            Assert.False(first.HasExited, "the helper exited before it could be killed");
            first.Kill();
            await first.WaitForExitAsync();
        }

        // No worker runs now: the signal is stored for the run.
        SqliteConnection.ClearAllPools();
        await using (var sender = new TestHost(SqliteWorkflowStore.Open(database), _ => { }))
        {
            Assert.True(await sender.Client.SignalAsync("signal-0", "go", "green light", "signal-id-1"));
            Assert.False(await sender.Client.SignalAsync("signal-0", "go", "green light", "signal-id-1"));
        }

        SqliteConnection.ClearAllPools();
        using (var second = CrashHelperProcess.Start(database, bodyLog, 1, "waiter", workflow: "signal"))
        {
            await second.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.True(second.ExitCode == 0, $"the restarted helper failed ({second.ExitCode}): {await second.StandardError.ReadToEndAsync()}");
        }

        using var after = SqliteWorkflowStore.Open(database);
        var snapshot = (await after.LoadAsync("signal-0", default))!;
        Assert.Equal(WorkflowStatus.Completed, snapshot.Run.Status);
        Assert.Equal("\"green light\"", snapshot.Run.OutputJson);
        Assert.Equal("\"green light\"", snapshot.Journal.Single(e => e.Kind == OperationKind.Signal).OutputJson);
        Assert.Equal(["before", "after"], CrashHelperProcess.ReadBodyLog(bodyLog).Select(b => b.What));
    }

    private static string Nap(TimeSpan nap) => "nap:" + nap.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
