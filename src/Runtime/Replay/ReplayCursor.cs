using Durably.Runtime.Journal;

namespace Durably.Runtime.Replay;

/// <summary>
/// Where a re-executing run method stands against its journal: which sequence number the next durable call takes,
/// whether that call matches the row journaled there, which journaled outcome is delivered next (in the recorded
/// completion order), and which completion index the next live outcome gets. Pure: it reads no store and runs nothing,
/// so replay's rules are tested on their own.
/// </summary>
internal sealed class ReplayCursor
{
    private readonly Dictionary<long, JournalEntry> _journal;
    private readonly Queue<JournalEntry> _replay;
    private readonly long _lastJournaledSequence;
    private readonly string _runName;

    /// <summary>Reads <paramref name="journal"/>, the rows loaded with the run.</summary>
    /// <param name="journal">Every row of the run's journal.</param>
    /// <param name="runName">How messages name the run ("run 'x' of workflow 'y' v1").</param>
    public ReplayCursor(IEnumerable<JournalEntry> journal, string runName)
    {
        _journal = journal.ToDictionary(e => e.Sequence);
        _runName = runName;
        // Compensations are the engine's, not the run method's, and patch markers are checked where the run method asks,
        // not awaited: neither is delivered.
        _replay = new Queue<JournalEntry>(_journal.Values.Where(e => e.IsTerminal && e.Kind is not (OperationKind.Compensation or OperationKind.Patch)).OrderBy(e => e.CompletionIndex));
        NextCompletionIndex = _journal.Values.Where(e => e.IsTerminal).Select(e => e.CompletionIndex ?? -1).DefaultIfEmpty(-1).Max() + 1;
        _lastJournaledSequence = _journal.Count == 0 ? -1 : _journal.Keys.Max();
    }

    /// <summary>The sequence number the run method's next durable call takes.</summary>
    public long NextSequence { get; private set; }

    /// <summary>The completion index the next outcome delivered live is journaled with.</summary>
    public long NextCompletionIndex { get; private set; }

    /// <summary>Whether every journaled outcome has been delivered and the journal checked for calls the run method no longer makes.</summary>
    public bool ReplayDone { get; private set; }

    /// <summary>
    /// The run method is re-running code an earlier execution ran: outcomes are still to come from the journal, or the
    /// journal holds an operation it has not called yet (so it reached further before).
    /// </summary>
    public bool IsReplaying => _replay.Count > 0 || NextSequence <= _lastJournaledSequence;

    /// <summary>Takes the sequence number of a durable call the run method makes now.</summary>
    public long TakeSequence() => NextSequence++;

    /// <summary>Takes the completion index of an outcome delivered live now.</summary>
    public long TakeCompletionIndex() => NextCompletionIndex++;

    /// <summary>An outcome was journaled elsewhere with <paramref name="completionIndex"/> (a signal taken by the store): later ones come after it.</summary>
    public void CompletedAt(long completionIndex) => NextCompletionIndex = Math.Max(NextCompletionIndex, completionIndex + 1);

    /// <summary>The row journaled at <paramref name="sequence"/>, if any.</summary>
    public JournalEntry? Recorded(long sequence) => _journal.GetValueOrDefault(sequence);

    /// <summary>Keeps the row now stored for its sequence (after a live outcome was journaled).</summary>
    public void Journaled(JournalEntry stored) => _journal[stored.Sequence] = stored;

    /// <summary>
    /// Checks the call at <paramref name="sequence"/> against its journal row: null when it matches or nothing is
    /// journaled there, else the non-determinism naming both operations, the sequence and the workflow version.
    /// </summary>
    /// <param name="sequence">The call's sequence number.</param>
    /// <param name="operationId">The called operation's id.</param>
    /// <param name="kind">The called operation's kind.</param>
    /// <param name="called">How messages name the call ("step 'Charge'").</param>
    public NonDeterminismException? Check(long sequence, string operationId, OperationKind kind, string called)
        => _journal.TryGetValue(sequence, out var recorded) && (recorded.OperationId != operationId || recorded.Kind != kind)
            ? new NonDeterminismException(
                $"Non-determinism in {_runName}: at sequence {sequence} the run method called {called}, but the journal recorded {Describe(recorded)}.",
                sequence)
            : null;

    /// <summary>
    /// Where patch <paramref name="patchId"/> stands at the run method's next sequence number: the marker is journaled
    /// there (the run took the new branch before), the run passed this point before without it (the old branch), or the
    /// run is here for the first time (live).
    /// </summary>
    public PatchState PatchAt(string patchId)
        => Recorded(NextSequence) is { } recorded
            ? recorded.Kind == OperationKind.Patch && recorded.OperationId == patchId ? PatchState.Marked : PatchState.PassedWithout
            : IsReplaying ? PatchState.PassedWithout : PatchState.Live;

    /// <summary>The next journaled outcome to deliver, in completion order, while replay lasts.</summary>
    public bool TryPeekNext(out JournalEntry next) => _replay.TryPeek(out next!);

    /// <summary>The outcome <see cref="TryPeekNext"/> gave was delivered.</summary>
    public void Delivered() => _replay.Dequeue();

    /// <summary>The next journaled outcome is for a call the run method has not made: the non-determinism that says so.</summary>
    /// <param name="recorded">The outcome to deliver.</param>
    /// <param name="runMethodReturned">Whether the run method returned (rather than waits for something else).</param>
    public NonDeterminismException Uncalled(JournalEntry recorded, bool runMethodReturned)
        => new($"Non-determinism in {_runName}: the journal recorded {Describe(recorded)} at sequence {recorded.Sequence}, "
            + $"but the run method {(runMethodReturned ? "returned" : "is waiting")} without calling it.", recorded.Sequence);

    /// <summary>
    /// Replay has delivered every journaled outcome: returns the non-determinism when the journal holds an operation the
    /// run method did not call again, else null — the run goes live.
    /// </summary>
    public NonDeterminismException? EndReplay()
    {
        ReplayDone = true;
        var uncalled = _journal.Values.Where(e => e.Sequence >= NextSequence).OrderBy(e => e.Sequence).FirstOrDefault();
        return uncalled is null ? null : new NonDeterminismException(
            $"Non-determinism in {_runName}: the journal recorded {Describe(uncalled)} at sequence {uncalled.Sequence}, but the run method did not call it.",
            uncalled.Sequence);
    }

    /// <summary>Drops the journal, so nothing of the run stays reachable through the cursor.</summary>
    public void Clear()
    {
        _replay.Clear();
        _journal.Clear();
    }

    /// <summary>How messages name a journaled operation ("step 'Charge'").</summary>
    /// <summary>The first row whose kind or state is no value Durably writes, as the exception that parks the run; null when every row reads.</summary>
    public static UnreadableJournalException? FindUnreadable(IReadOnlyList<JournalEntry> journal, string runName)
    {
        foreach (var entry in journal)
        {
            var problem = !Enum.IsDefined(entry.Kind) ? $"its kind is {(int)entry.Kind}, which is no operation kind"
                : !Enum.IsDefined(entry.State) ? $"its state is {(int)entry.State}, which is no journal row state"
                : null;
            if (problem is not null)
            {
                return new UnreadableJournalException(
                    $"The journal of {runName} cannot be read at sequence {entry.Sequence} (operation '{entry.OperationId}'): {problem}. The row was damaged "
                    + "or edited; restore it (or the database) and retry the dead letter, or discard the run.", entry.Sequence);
            }
        }

        return null;
    }

    public static string Describe(JournalEntry entry) => $"{entry.Kind.ToString().ToLowerInvariant()} '{entry.OperationId}'";
}

/// <summary>Where a patch check stands against the journal (<see cref="ReplayCursor.PatchAt"/>).</summary>
internal enum PatchState
{
    /// <summary>First time here: record the marker and take the new branch.</summary>
    Live,

    /// <summary>The marker is journaled at this sequence: the run took the new branch; consume it.</summary>
    Marked,

    /// <summary>The run passed this point before without the marker: it took the old branch; consume nothing.</summary>
    PassedWithout,
}
