using System.Collections.Concurrent;
using Durably.Runtime.Journal;
using Durably.Runtime.Stores;
using Durably.Runtime.Tests.Support;

namespace Durably.Runtime.Tests.Stores.Postgres;

/// <summary>
/// The group commit's batch of journal rows, sent as one statement: each row is fenced, written and answered exactly as
/// its own statement would have done it — every case a journal write can meet, side by side.
/// </summary>
public sealed class PostgresGroupCommitTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    private static readonly DateTimeOffset s_at = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Rows_written_in_one_batch_statement_are_fenced_written_and_answered_as_each_row_alone()
    {
        var alone = await RunCasesAsync(batched: false);
        var batched = await RunCasesAsync(batched: true);

        // The batch went as one statement carrying every row (the blocked first write aside).
        Assert.Equal(1, batched.RowStatements);
        Assert.Equal(0, alone.RowStatements);
        Assert.Equal(alone.Results, batched.Results);
        Assert.Equal(alone.Journals, batched.Journals);

        // And what each case gives, so that the two cannot agree on being wrong.
        Assert.Equal("written Attempting attempts=1", alone.Results["new-attempt"]);
        Assert.Equal("written Attempting attempts=2", alone.Results["another-attempt"]);
        Assert.Equal("written Completed attempts=1 output=\"done\"", alone.Results["new-outcome"]);
        Assert.Equal("written Completed attempts=3 output=\"done\"", alone.Results["outcome-after-attempts"]);
        Assert.Equal("written Completed attempts=1 output=\"first\"", alone.Results["outcome-again"]);
        Assert.Equal("fenced", alone.Results["stale-lease"]);
        Assert.Equal("cancelled", alone.Results["attempt-after-cancel"]);
        Assert.Equal("written Attempting attempts=1 cancel", alone.Results["compensation-after-cancel"]);
        Assert.Equal("written Failed attempts=1 error=Declined:card declined", alone.Results["failed-outcome"]);
        Assert.Equal("written Attempting attempts=1", alone.Results["large-input"]);
        Assert.Equal("fenced", alone.Results["ended-run"]);
        Assert.Equal("\"" + new string('x', 256 * 1024) + "\"", alone.Journals["large-input"].Split('|')[1]);
    }

    [Fact]
    public async Task Attempts_that_do_not_wait_for_the_flush_go_in_one_statement_too_and_a_cancel_refuses_only_new_work()
    {
        var schema = "group_" + Guid.NewGuid().ToString("N")[..12];
        await using var store = PostgresWorkflowStore.Open(database.ConnectionString, new PostgresStoreOptions { Schema = schema });
        var leases = new Dictionary<string, RunLease>();
        foreach (var id in new[] { "blocker", "deferred", "pipelined", "deferred-cancelled", "pipelined-cancelled" })
        {
            await store.CreateRunAsync(RunRecord.Started(id, "Orders", 1, "{}", s_at), default);
            leases[id] = (await store.TryClaimAsync(id, "w", TimeSpan.FromMinutes(5), default))!;
        }

        await store.RequestCancelAsync("deferred-cancelled", "stop", default);
        await store.RequestCancelAsync("pipelined-cancelled", "stop", default);
        await using var held = await database.HoldRunAsync(schema, "blocker");

        var blocked = store.RecordAttemptAsync(leases["blocker"], Attempt("blocker", "{}"), JournalDurability.Deferred, default);
        await database.UntilBlockedAsync(schema);
        var deferred = store.RecordAttemptAsync(leases["deferred"], Attempt("deferred", "{}"), JournalDurability.Deferred, default);
        var pipelined = store.RecordAttemptAsync(leases["pipelined"], Attempt("pipelined", "{}"), JournalDurability.Pipelined, default);
        var deferredCancelled = store.RecordAttemptAsync(leases["deferred-cancelled"], Attempt("deferred-cancelled", "{}"), JournalDurability.Deferred, default);
        var pipelinedCancelled = store.RecordAttemptAsync(leases["pipelined-cancelled"], Attempt("pipelined-cancelled", "{}"), JournalDurability.Pipelined, default);
        await held.Transaction.CommitAsync();

        Assert.Equal("written Attempting attempts=1", Describe(await blocked));
        Assert.Equal("written Attempting attempts=1", Describe(await deferred));
        Assert.Equal("written Attempting attempts=1", Describe(await pipelined));
        // A deferred attempt starts work, so a cancel refuses it; a pipelined one records work already under way.
        Assert.Equal("cancelled", Describe(await deferredCancelled));
        Assert.Equal("written Attempting attempts=1 cancel", Describe(await pipelinedCancelled));
        Assert.Empty((await store.LoadAsync("deferred-cancelled", default))!.Journal);
        Assert.Single((await store.LoadAsync("pipelined-cancelled", default))!.Journal);
    }

    [Fact]
    public async Task A_runs_end_goes_with_the_journal_writes_queued_beside_it_and_a_stale_end_changes_nothing()
    {
        var schema = "group_" + Guid.NewGuid().ToString("N")[..12];
        await using var store = PostgresWorkflowStore.Open(database.ConnectionString, new PostgresStoreOptions { Schema = schema });
        var leases = new Dictionary<string, RunLease>();
        foreach (var id in new[] { "blocker", "stepping", "ending", "stale" })
        {
            await store.CreateRunAsync(RunRecord.Started(id, "Orders", 1, "{}", s_at), default);
            leases[id] = (await store.TryClaimAsync(id, "w", TimeSpan.FromMinutes(5), default))!;
        }

        var batches = new ConcurrentQueue<string>();
        using var listener = SentStatements.Listen(schema, batches);
        await using var held = await database.HoldRunAsync(schema, "blocker");

        var blocked = store.RecordAttemptAsync(leases["blocker"], Attempt("blocker", "{}"), JournalDurability.Durable, default);
        await database.UntilBlockedAsync(schema);
        var step = store.CompleteEntryAsync(leases["stepping"], Completed("stepping", "\"done\""), default);
        var end = store.CompleteRunAsync(leases["ending"], new RunOutcome(WorkflowStatus.Completed, "\"shipped\"", null), default);
        var stale = store.CompleteRunAsync(leases["stale"] with { Epoch = leases["stale"].Epoch + 1 }, new RunOutcome(WorkflowStatus.Failed, null, new WorkflowError("E", "m")), default);
        await held.Transaction.CommitAsync();

        Assert.False((await blocked).Fenced);
        Assert.Equal(JournalEntryState.Completed, (await step).Entry!.State);
        Assert.True(await end);
        Assert.False(await stale);
        Assert.Equal((WorkflowStatus.Completed, "\"shipped\""), (await store.GetRunAsync("ending", default)) is { } ended ? (ended.Status, ended.OutputJson) : default);
        Assert.Equal(WorkflowStatus.Running, (await store.GetRunAsync("stale", default))!.Status);
        // One round trip carried the step's outcome and both ends, the ends' announcements after them.
        var shared = Assert.Single(batches, b => b.Contains("WITH ended AS", StringComparison.Ordinal));
        Assert.Contains("completed_at = excluded.completed_at", shared, StringComparison.Ordinal);
        Assert.True(shared.LastIndexOf("WITH ended AS", StringComparison.Ordinal) < shared.IndexOf("pg_advisory_xact_lock", StringComparison.Ordinal), shared);
    }

    private sealed record Outcome(Dictionary<string, string> Results, Dictionary<string, string> Journals, int RowStatements);

    /// <summary>
    /// Sets up one run per case, then sends every case's write: one by one, or all at once while the first write of the
    /// queue is held up by a lock, so that the rest wait and go together in the next batch.
    /// </summary>
    private async Task<Outcome> RunCasesAsync(bool batched)
    {
        var schema = "group_" + Guid.NewGuid().ToString("N")[..12];
        await using var store = PostgresWorkflowStore.Open(database.ConnectionString, new PostgresStoreOptions { Schema = schema });
        string[] cases = ["blocker", "new-attempt", "another-attempt", "new-outcome", "outcome-after-attempts", "outcome-again", "stale-lease",
            "attempt-after-cancel", "compensation-after-cancel", "failed-outcome", "large-input", "ended-run"];
        var leases = new Dictionary<string, RunLease>();
        foreach (var id in cases)
        {
            await store.CreateRunAsync(RunRecord.Started(id, "Orders", 1, "{}", s_at), default);
            leases[id] = (await store.TryClaimAsync(id, "w", TimeSpan.FromMinutes(5), default))!;
        }

        // What each case finds in the store before its write.
        await store.RecordAttemptAsync(leases["another-attempt"], Attempt("another-attempt", "{}"), JournalDurability.Durable, default);
        for (var i = 0; i < 3; i++)
        {
            await store.RecordAttemptAsync(leases["outcome-after-attempts"], Attempt("outcome-after-attempts", "{}"), JournalDurability.Durable, default);
        }

        await store.CompleteEntryAsync(leases["outcome-again"], Completed("outcome-again", "\"first\""), default);
        await store.RequestCancelAsync("attempt-after-cancel", "the customer left", default);
        await store.RequestCancelAsync("compensation-after-cancel", "the customer left", default);
        await store.CompleteRunAsync(leases["ended-run"], new RunOutcome(WorkflowStatus.Completed, "null", null), default);

        var statements = new ConcurrentQueue<string>();
        using var listener = SentStatements.Listen(schema, statements);

        Func<Task<JournalWriteResult>>[] writes =
        [
            () => store.RecordAttemptAsync(leases["new-attempt"], Attempt("new-attempt", "{}"), JournalDurability.Durable, default),
            () => store.RecordAttemptAsync(leases["another-attempt"], Attempt("another-attempt", "{}"), JournalDurability.Durable, default),
            () => store.CompleteEntryAsync(leases["new-outcome"], Completed("new-outcome", "\"done\""), default),
            () => store.CompleteEntryAsync(leases["outcome-after-attempts"], Completed("outcome-after-attempts", "\"done\""), default),
            () => store.CompleteEntryAsync(leases["outcome-again"], Completed("outcome-again", "\"second\""), default),
            () => store.RecordAttemptAsync(leases["stale-lease"] with { Epoch = leases["stale-lease"].Epoch + 1 }, Attempt("stale-lease", "{}"), JournalDurability.Durable, default),
            () => store.RecordAttemptAsync(leases["attempt-after-cancel"], Attempt("attempt-after-cancel", "{}"), JournalDurability.Durable, default),
            () => store.RecordAttemptAsync(leases["compensation-after-cancel"], Attempt("compensation-after-cancel", "{}") with { Kind = OperationKind.Compensation }, JournalDurability.Durable, default),
            () => store.CompleteEntryAsync(leases["failed-outcome"], Completed("failed-outcome", null) with { State = JournalEntryState.Failed, Error = new WorkflowError("Declined", "card declined") }, default),
            () => store.RecordAttemptAsync(leases["large-input"], Attempt("large-input", "\"" + new string('x', 256 * 1024) + "\""), JournalDurability.Durable, default),
            () => store.RecordAttemptAsync(leases["ended-run"], Attempt("ended-run", "{}"), JournalDurability.Durable, default),
        ];

        var results = new Task<JournalWriteResult>[writes.Length];
        if (batched)
        {
            // The blocker's write waits at the server for the run row this transaction holds; the others queue behind it.
            await using var held = await database.HoldRunAsync(schema, "blocker");

            var blocked = store.RecordAttemptAsync(leases["blocker"], Attempt("blocker", "{}"), JournalDurability.Durable, default);
            await database.UntilBlockedAsync(schema);
            for (var i = 0; i < writes.Length; i++)
            {
                results[i] = writes[i]();
            }

            await held.Transaction.CommitAsync();
            Assert.False((await blocked).Fenced);
        }
        else
        {
            for (var i = 0; i < writes.Length; i++)
            {
                results[i] = Task.FromResult(await writes[i]());
            }
        }

        var answered = new Dictionary<string, string>();
        var journals = new Dictionary<string, string>();
        for (var i = 0; i < writes.Length; i++)
        {
            answered[cases[i + 1]] = Describe(await results[i]);
        }

        foreach (var id in cases.Skip(1))
        {
            journals[id] = string.Join(";", (await store.LoadAsync(id, default))!.Journal.Select(e =>
                $"{e.Sequence}:{e.OperationId}:{e.Kind}:{e.State}|{e.InputJson}|{e.OutputJson}|{e.Error?.Type}:{e.Error?.Message}|{e.Attempts}|{e.CompletionIndex}|{e.StartedAt:O}|{e.CompletedAt:O}"));
        }

        var rowStatements = statements.Count(s => s.Contains("unnest(", StringComparison.Ordinal));
        return new Outcome(answered, journals, rowStatements);
    }

    private static JournalEntry Attempt(string id, string input) => JournalEntry.Attempting(id, 0, "Charge", OperationKind.Step, input, s_at) with { Attempts = 1 };

    private static JournalEntry Completed(string id, string? output) => Attempt(id, "{}") with
    {
        State = JournalEntryState.Completed, OutputJson = output, CompletionIndex = 0, CompletedAt = s_at.AddSeconds(1),
    };

    private static string Describe(JournalWriteResult result)
        => result.Fenced ? "fenced"
            : result.Entry is not { } entry ? (result.CancelRequested ? "cancelled" : "nothing")
            : $"written {entry.State} attempts={entry.Attempts}"
                + (entry.OutputJson is { } output ? $" output={output}" : "")
                + (entry.Error is { } error ? $" error={error.Type}:{error.Message}" : "")
                + (result.CancelRequested ? " cancel" : "");
}
