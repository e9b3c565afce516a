using Durably.Runtime.Journal;
using Durably.Runtime.Stores;
using Durably.Runtime.Tests.Support;

namespace Durably.Runtime.Tests.Stores.Postgres;

/// <summary>
/// The journal has no foreign key to the runs table (schema 19): every journal write is fenced by its run's row, which
/// it reads and share-locks in the same statement, so the key's check only repeated it. These show that no path writes
/// a journal row without its run, nor leaves one behind — alone, batched, deferred, rerun or purged.
/// </summary>
public sealed class PostgresJournalOwnershipTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    private static readonly TimeSpan s_lease = TimeSpan.FromMinutes(5);
    private readonly string _schema = "owned_" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public async Task No_journal_row_is_written_without_its_run_nor_outlives_it()
    {
        await using var store = PostgresWorkflowStore.Open(database.ConnectionString, new PostgresStoreOptions { Schema = _schema });
        Assert.Equal(0L, await CountAsync($"SELECT count(*) FROM pg_constraint WHERE conrelid = '{_schema}.journal'::regclass AND contype = 'f'"));

        await store.CreateRunAsync(RunRecord.Started("kept", "Orders", 1, "{}", DateTimeOffset.UtcNow), default);
        var lease = (await store.TryClaimAsync("kept", "worker", s_lease, default))!;
        Assert.False((await store.CompleteEntryAsync(lease, Completed("kept", 0), default)).Fenced);

        // Writes for runs that were never created, one at a time and many at once (the group commit sends those
        // together, as one statement): each is fenced out, and none is written.
        var ghosts = Enumerable.Range(0, 40).Select(i => lease with { WorkflowId = $"ghost-{i}" }).ToArray();
        Assert.True((await store.CompleteEntryAsync(ghosts[0], Completed("ghost-0", 0), default)).Fenced);
        Assert.True((await store.RecordAttemptAsync(ghosts[0], Attempting("ghost-0", 1), JournalDurability.Deferred, default)).Fenced);
        var together = await Task.WhenAll(ghosts.Select((g, i) => i % 2 == 0
            ? store.CompleteEntryAsync(g, Completed(g.WorkflowId, 2), default)
            : store.RecordAttemptAsync(g, Attempting(g.WorkflowId, 2), JournalDurability.Deferred, default)));
        Assert.All(together, result => Assert.True(result.Fenced));

        // A rerun's run and journal go together, or not at all: on a taken id, neither is written.
        Assert.True(await store.CreateRunWithJournalAsync(RunRecord.Started("rerun", "Orders", 1, "{}", DateTimeOffset.UtcNow), [Completed("rerun", 0)], default));
        Assert.False(await store.CreateRunWithJournalAsync(RunRecord.Started("rerun", "Orders", 1, "{}", DateTimeOffset.UtcNow), [Completed("rerun", 0), Completed("rerun", 1)], default));
        Assert.Equal(1L, await CountAsync($"SELECT count(*) FROM {_schema}.journal WHERE workflow_id = 'rerun'"));

        // Ended and purged: its journal goes with it, and the old lease writes nothing more.
        Assert.True(await store.CompleteRunAsync(lease, new RunOutcome(WorkflowStatus.Completed, "1", null), default));
        Assert.Equal(["kept"], await ((IWorkflowStoreRetention)store).PurgeRunsAsync(new RunPurgeQuery(DateTimeOffset.UtcNow.AddMinutes(1), null, 10), default));
        Assert.True((await store.CompleteEntryAsync(lease, Completed("kept", 1), default)).Fenced);

        Assert.Equal(0L, await CountAsync($"SELECT count(*) FROM {_schema}.journal j WHERE NOT EXISTS (SELECT 1 FROM {_schema}.runs r WHERE r.workflow_id = j.workflow_id)"));
        Assert.Equal(1L, await CountAsync($"SELECT count(*) FROM {_schema}.journal"));
    }

    private async Task<long> CountAsync(string sql) => Convert.ToInt64(await database.ScalarAsync(sql), System.Globalization.CultureInfo.InvariantCulture);

    private static JournalEntry Attempting(string workflowId, long sequence)
        => JournalEntry.Attempting(workflowId, sequence, "Charge", OperationKind.Step, "{}", DateTimeOffset.UtcNow) with { Attempts = 1 };

    private static JournalEntry Completed(string workflowId, long sequence)
        => Attempting(workflowId, sequence) with { State = JournalEntryState.Completed, OutputJson = "1", CompletedAt = DateTimeOffset.UtcNow };
}
