using Durably.Runtime.Journal;
using Durably.Runtime.Replay;

namespace Durably.Runtime.Tests.Replay;

/// <summary>The rules of replay on their own: no store, no engine, no run method — only a journal and a cursor over it.</summary>
public sealed class ReplayCursorTests
{
    private const string RunName = "run 'order-1' of workflow 'Orders' v3";
    private static readonly DateTimeOffset s_start = new(2026, 11, 1, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public void An_empty_journal_numbers_calls_from_zero_and_is_live_at_once()
    {
        var cursor = new ReplayCursor([], RunName);

        Assert.False(cursor.IsReplaying);
        Assert.False(cursor.TryPeekNext(out _));
        Assert.Null(cursor.EndReplay());
        Assert.True(cursor.ReplayDone);
        Assert.Equal([0L, 1L, 2L], [cursor.TakeSequence(), cursor.TakeSequence(), cursor.TakeSequence()]);
        Assert.Equal([0L, 1L], [cursor.TakeCompletionIndex(), cursor.TakeCompletionIndex()]);
    }

    [Fact]
    public void Outcomes_come_back_in_the_order_they_were_delivered_not_the_order_they_were_called()
    {
        // Fan-out: Ship(1) at sequence 1 finished after Ship(2) at sequence 2; Charge at 3 is still attempting.
        var cursor = new ReplayCursor(
        [
            Completed(0, "Reserve", index: 0),
            Completed(1, "Ship", index: 2),
            Completed(2, "Ship", index: 1),
            Attempting(3, "Charge"),
        ], RunName);

        var delivered = new List<long>();
        while (cursor.TryPeekNext(out var next))
        {
            delivered.Add(next.Sequence);
            cursor.Delivered();
        }

        Assert.Equal([0L, 2L, 1L], delivered);
        Assert.Equal(3, cursor.NextCompletionIndex);
    }

    [Fact]
    public void Compensation_rows_are_never_replayed_to_the_run_method_and_never_count_as_uncalled()
    {
        var cursor = new ReplayCursor(
        [
            Completed(0, "Charge", index: 0),
            Completed(JournalEntry.CompensationSequenceOf(0), "Charge", index: null, OperationKind.Compensation),
        ], RunName);

        Assert.True(cursor.TryPeekNext(out var next));
        Assert.Equal(0, next.Sequence);
        cursor.Delivered();
        Assert.False(cursor.TryPeekNext(out _));
        Assert.Equal(0, cursor.TakeSequence());
        Assert.Null(cursor.EndReplay());
        Assert.Equal(-1, JournalEntry.CompensationSequenceOf(0));
        Assert.Equal(0, JournalEntry.StepSequenceOf(-1));
        Assert.Equal(7, JournalEntry.StepSequenceOf(7));
    }

    [Fact]
    public void A_call_that_differs_from_its_journal_row_is_named_with_both_operations_the_sequence_and_the_version()
    {
        var cursor = new ReplayCursor([Completed(0, "Reserve", index: 0), Timer(1)], RunName);

        Assert.Null(cursor.Check(0, "Reserve", OperationKind.Step, "step 'Reserve'"));
        Assert.Null(cursor.Check(2, "Anything", OperationKind.Step, "step 'Anything'"));

        var renamed = cursor.Check(0, "Charge", OperationKind.Step, "step 'Charge'");
        Assert.NotNull(renamed);
        Assert.Equal(0, renamed.Sequence);
        Assert.Equal(
            "Non-determinism in run 'order-1' of workflow 'Orders' v3: at sequence 0 the run method called step 'Charge', but the journal recorded step 'Reserve'.",
            renamed.Message);

        var otherKind = cursor.Check(1, "sleep", OperationKind.Step, "step 'sleep'");
        Assert.NotNull(otherKind);
        Assert.Contains("the journal recorded timer 'sleep'", otherKind.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_journaled_operation_the_run_method_no_longer_calls_is_found_when_replay_ends()
    {
        var cursor = new ReplayCursor([Completed(0, "Reserve", index: 0), Attempting(1, "Charge")], RunName);
        cursor.TakeSequence();
        cursor.Delivered();

        var uncalled = cursor.EndReplay();

        Assert.NotNull(uncalled);
        Assert.Equal(1, uncalled.Sequence);
        Assert.Equal("Non-determinism in run 'order-1' of workflow 'Orders' v3: the journal recorded step 'Charge' at sequence 1, but the run method did not call it.", uncalled.Message);
        Assert.Contains("the run method returned without calling it", cursor.Uncalled(Completed(4, "Ship", index: 1), runMethodReturned: true).Message, StringComparison.Ordinal);
        Assert.Contains("the run method is waiting without calling it", cursor.Uncalled(Completed(4, "Ship", index: 1), runMethodReturned: false).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void It_is_replaying_until_the_run_method_passes_the_last_journaled_call()
    {
        var cursor = new ReplayCursor([Completed(0, "Reserve", index: 0), Attempting(1, "Charge")], RunName);
        Assert.True(cursor.IsReplaying);

        cursor.TakeSequence();
        cursor.Delivered();
        Assert.True(cursor.IsReplaying);   // sequence 1 was reached before and is not yet called again

        cursor.TakeSequence();
        Assert.False(cursor.IsReplaying);
        Assert.Equal(JournalEntryState.Attempting, cursor.Recorded(1)!.State);

        cursor.Journaled(Completed(1, "Charge", index: 1));
        Assert.Equal(JournalEntryState.Completed, cursor.Recorded(1)!.State);
    }

    [Fact]
    public void An_outcome_journaled_by_the_store_moves_the_next_completion_index_past_it_and_never_back()
    {
        var cursor = new ReplayCursor([Completed(0, "Reserve", index: 4)], RunName);
        Assert.Equal(5, cursor.NextCompletionIndex);

        cursor.CompletedAt(7);
        Assert.Equal(8, cursor.NextCompletionIndex);
        cursor.CompletedAt(2);
        Assert.Equal(8, cursor.NextCompletionIndex);
    }

    [Fact]
    public void A_patch_check_is_live_where_the_run_never_was_marked_where_it_took_the_patch_and_old_where_it_passed_without()
    {
        var fresh = new ReplayCursor([Completed(0, "Pack", index: 0)], RunName);
        fresh.TakeSequence();
        fresh.Delivered();
        Assert.Equal(PatchState.Live, fresh.PatchAt("insure"));

        var marked = new ReplayCursor([Completed(0, "Pack", index: 0), Completed(1, "insure", index: null, OperationKind.Patch), Completed(2, "Insure", index: 1)], RunName);
        marked.TakeSequence();
        Assert.Equal(PatchState.Marked, marked.PatchAt("insure"));
        Assert.Equal(PatchState.PassedWithout, marked.PatchAt("another-patch"));
        // The marker is never delivered to the run method: only the two steps are.
        var delivered = new List<long>();
        while (marked.TryPeekNext(out var next))
        {
            delivered.Add(next.Sequence);
            marked.Delivered();
        }

        Assert.Equal([0L, 2L], delivered);

        var passed = new ReplayCursor([Completed(0, "Pack", index: 0), Attempting(1, "Hold")], RunName);
        passed.TakeSequence();
        Assert.Equal(PatchState.PassedWithout, passed.PatchAt("insure"));
    }

    private static JournalEntry Attempting(long sequence, string id, OperationKind kind = OperationKind.Step)
        => JournalEntry.Attempting("order-1", sequence, id, kind, "{}", s_start) with { Attempts = 1 };

    private static JournalEntry Completed(long sequence, string id, long? index, OperationKind kind = OperationKind.Step)
        => Attempting(sequence, id, kind) with { State = JournalEntryState.Completed, OutputJson = "1", CompletionIndex = index, CompletedAt = s_start.AddSeconds(1) };

    private static JournalEntry Timer(long sequence) => Completed(sequence, "sleep", index: 1, OperationKind.Timer);
}
