using Durably.Runtime.Journal;
using Durably.Runtime.Stores;
using Durably.Runtime.Tests.Support;
using Npgsql;

namespace Durably.Runtime.Tests.Crash;

/// <summary>
/// A worker process running transactional steps on PostgreSQL is killed (SIGKILL) while a step's row is written but
/// not committed. At that moment, and after a restart finishes every run, each step's own row and its completed journal
/// row are both present or both absent; the cut step ran again and committed once.
/// </summary>
public sealed class TransactionalKillTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IDisposable
{
    private const int Runs = 10;
    private const int StepsPerRun = 3;
    private readonly string _directory = Directory.CreateTempSubdirectory("durably-tx-kill-").FullName;

    [Fact]
    public async Task A_kill_between_a_transactional_step_s_write_and_its_commit_leaves_neither_and_the_restart_commits_both_once()
    {
        var store = "postgres:" + database.ConnectionString;
        var bodyLog = Path.Combine(_directory, "bodies.log");
        List<BodyEvent> cut;
        using (var first = CrashHelperProcess.Start(store, bodyLog, Runs, "tx-worker", TimeSpan.FromSeconds(2), "transactional"))
        {
            try
            {
                if (!await CrashHelperProcess.KillWhenAsync(first, () => CrashHelperProcess.InFlight(CrashHelperProcess.ReadBodyLog(bodyLog)).Any(), TimeSpan.FromSeconds(120)))
                {
                    Assert.Fail(first.HasExited
                        ? $"the helper finished (exit {first.ExitCode}) before it could be killed: {first.StandardError.ReadToEnd()}"
                        : "the helper made no progress");
                }
            }
            finally
            {
                if (!first.HasExited)
                {
                    first.Kill();
                }
            }

            cut = [.. CrashHelperProcess.InFlight(CrashHelperProcess.ReadBodyLog(bodyLog))];
        }

        Assert.NotEmpty(cut);
        // The killed worker's sessions may still be committing what it sent last; read once they are gone.
        await database.WaitForOtherSessionsToEndAsync();
        await using var journal = PostgresWorkflowStore.Open(database.ConnectionString);
        var afterKill = await ConsistentAsync(journal);
        // Every body cut after its write: no row of its own, no completed journal row.
        Assert.All(cut, c => Assert.Equal(0, afterKill[(c.WorkflowId, c.Sequence)].Rows));

        using (var second = CrashHelperProcess.Start(store, bodyLog, Runs, "tx-worker", TimeSpan.FromSeconds(2), "transactional"))
        {
            var output = second.StandardOutput.ReadToEndAsync();
            await second.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(180));
            Assert.True(second.ExitCode == 0, $"the restarted helper failed ({second.ExitCode}): {await output} {await second.StandardError.ReadToEndAsync()}");
        }

        var final = await ConsistentAsync(journal);
        Assert.Equal(Runs * StepsPerRun, final.Count);
        Assert.All(final.Values, step => Assert.Equal((1, true), (step.Rows, step.Completed)));
        // The cut steps ran again, with the same key, and only that attempt's row committed.
        foreach (var c in cut)
        {
            var row = final[(c.WorkflowId, c.Sequence)];
            Assert.True(row.Attempt > c.Attempt, $"{c.WorkflowId}/{c.Sequence}: committed attempt {row.Attempt}, cut attempt {c.Attempt}");
            Assert.Equal(c.IdempotencyKey, row.Key);
        }
    }

    /// <summary>
    /// Reads every step call of every run: how many rows it committed, whether its journal row is completed, and the
    /// committed row's attempt and key; asserts that a step has its row exactly when its journal row is completed.
    /// </summary>
    private async Task<Dictionary<(string WorkflowId, long Sequence), (int Rows, bool Completed, int Attempt, string? Key)>> ConsistentAsync(IWorkflowStore journal)
    {
        var rows = new Dictionary<(string, long), List<(int Attempt, string Key)>>();
        await using (var connection = new NpgsqlConnection(database.ConnectionString))
        {
            await connection.OpenAsync();
            await using var select = new NpgsqlCommand("SELECT workflow_id, sequence, attempt, idempotency_key FROM app_rows", connection);
            await using var reader = await select.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var key = (reader.GetString(0), reader.GetInt64(1));
                (rows.TryGetValue(key, out var list) ? list : rows[key] = []).Add((reader.GetInt32(2), reader.GetString(3)));
            }
        }

        var steps = new Dictionary<(string, long), (int, bool, int, string?)>();
        for (var run = 0; run < Runs; run++)
        {
            var snapshot = await journal.LoadAsync($"tx-{run}", default);
            foreach (var entry in snapshot?.Journal ?? [])
            {
                var committed = rows.GetValueOrDefault((entry.WorkflowId, entry.Sequence)) ?? [];
                var completed = entry.State == JournalEntryState.Completed;
                Assert.True(committed.Count == (completed ? 1 : 0),
                    $"{entry.WorkflowId}/{entry.Sequence}: journal row {entry.State}, {committed.Count} row(s) of its own" + Describe(entry, snapshot!));
                steps[(entry.WorkflowId, entry.Sequence)] = (committed.Count, completed, committed.Count == 1 ? committed[0].Attempt : 0, committed.Count == 1 ? committed[0].Key : null);
            }
        }

        // No row without a journal row to go with it.
        Assert.All(rows.Keys, key => Assert.True(steps.ContainsKey(key), $"{key}: a row of its own but no journal row"));
        return steps;
    }

    /// <summary>For a failure: the journal row in full, the run's other rows, and what the helpers' bodies logged for this step.</summary>
    private string Describe(JournalEntry entry, RunSnapshot snapshot)
    {
        var bodies = CrashHelperProcess.ReadBodyLog(Path.Combine(_directory, "bodies.log"))
            .Where(b => b.WorkflowId == entry.WorkflowId && b.Sequence == entry.Sequence)
            .Select(b => $"{b.What} attempt {b.Attempt} at {b.At}");
        return $"\n  row: {entry}\n  run: {snapshot.Run}\n  journal: {string.Join("; ", snapshot.Journal.Select(j => $"#{j.Sequence} {j.State} a{j.Attempts} c{j.CompletionIndex}"))}"
            + $"\n  bodies: {string.Join("; ", bodies)}";
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
