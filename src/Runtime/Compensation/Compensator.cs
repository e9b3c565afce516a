using Durably.Infrastructure;
using Durably.Runtime.Journal;
using Durably.Runtime.Replay;

namespace Durably.Runtime.Compensation;

/// <summary>How a rollback ended: every compensation completed, one could not undo its step, or the lease was lost.</summary>
/// <param name="Fenced">Another worker took the run: nothing more was written.</param>
/// <param name="Failed">The compensation that could not undo its step (the run is parked), or null.</param>
internal readonly record struct RollbackResult(bool Fenced, CompensationFailedException? Failed)
{
    public static RollbackResult Done => default;
}

/// <summary>
/// The rollback of a run (DESIGN §3), once the attempts in flight have settled and their outcomes are journaled: the
/// compensations of the steps that completed (or whose outcome is unknown) run one at a time in reverse completion
/// order, each journaled at its own sequence (<see cref="JournalEntry.CompensationSequenceOf"/>) and retried by
/// <see cref="Engine.EngineContext.CompensationRetryPolicy"/>. A compensation that completed is never run again, so a
/// rollback interrupted by a crash resumes where it stopped.
/// </summary>
internal sealed class Compensator(IOperationHost host, IEnumerable<StepDefinition> steps)
{
    private readonly Dictionary<string, StepDefinition> _compensated = steps.Where(s => s.Compensation is not null).ToDictionary(s => s.Id, StringComparer.Ordinal);

    /// <summary>Whether the workflow has anything to compensate at all: steps with compensations, or child runs.</summary>
    public bool HasCompensations => _compensated.Count > 0 || MayHaveChildren;

    /// <summary>Whether the run has started a child (journaled, or now): a child that completed is rolled back with it.</summary>
    public bool MayHaveChildren { get; set; }

    /// <summary>
    /// Whether the step call's outcome is unknown, so it is compensated though not known to have completed: an attempt
    /// started and never recorded (interrupted by a crash or a stop), or the last attempt timed out.
    /// </summary>
    public static bool IsOutcomeUnknown(JournalEntry row)
        => (row.State == JournalEntryState.Attempting && row.RetryAt is null)
            || row.Error?.Type == typeof(StepTimeoutException).FullName;

    /// <summary>Compensates what <paramref name="journal"/> says was done, newest first, skipping compensations that completed.</summary>
    /// <param name="journal">The run's journal, read after the attempts in flight settled.</param>
    /// <param name="cancellationToken">Stops the rollback (the execution stops; the next one resumes it).</param>
    public async Task<RollbackResult> RunAsync(IReadOnlyList<JournalEntry> journal, CancellationToken cancellationToken)
    {
        var rows = journal.ToDictionary(e => e.Sequence);
        var abandoned = await AbandonedChildrenAsync(journal, cancellationToken).ConfigureAwait(false);
        var todo = journal
            .Where(e => (e.Kind == OperationKind.Step && _compensated.ContainsKey(e.OperationId) && (e.State == JournalEntryState.Completed || IsOutcomeUnknown(e)))
                || (e.Kind == OperationKind.Child && e.State == JournalEntryState.Completed && !abandoned.Contains(e.Sequence)))
            .OrderByDescending(e => e.CompletionIndex ?? long.MaxValue)
            .ThenByDescending(e => e.Sequence);
        foreach (var row in todo)
        {
            var compensated = rows.GetValueOrDefault(JournalEntry.CompensationSequenceOf(row.Sequence));
            if (compensated is { State: JournalEntryState.Completed })
            {
                continue;
            }

            var result = row.Kind == OperationKind.Child
                ? await new ChildRollback(host, row, compensated).RunAsync(cancellationToken).ConfigureAwait(false)
                : await _compensated[row.OperationId].Accept(new Launcher(host, row, compensated, cancellationToken)).ConfigureAwait(false);
            if (result != RollbackResult.Done)
            {
                return result;
            }
        }

        return RollbackResult.Done;
    }

    /// <summary>The sequences of the children started to be abandoned (<see cref="ParentCancelPolicy.Abandon"/>): a rollback leaves them be.</summary>
    private async Task<HashSet<long>> AbandonedChildrenAsync(IReadOnlyList<JournalEntry> journal, CancellationToken cancellationToken)
        => journal.Any(e => e.Kind == OperationKind.Child) && host.Engine.Store is IWorkflowStoreChildren family
            ? [.. (await family.ListChildrenAsync(host.WorkflowId, cancellationToken).ConfigureAwait(false)).Where(l => l.AbandonOnParentCancel).Select(l => l.ParentSequence)]
            : [];

    /// <summary>Recovers the step's static types from its table row, to run its compensation with them.</summary>
    private sealed class Launcher(IOperationHost host, JournalEntry step, JournalEntry? recorded, CancellationToken cancellationToken)
        : IStepDefinitionVisitor<Task<RollbackResult>>
    {
        public Task<RollbackResult> Visit<TStepWorkflow, TStepInput, TStepOutput>(StepDefinition<TStepWorkflow, TStepInput, TStepOutput> definition)
            where TStepWorkflow : class
            => new CompensationAttempts<TStepWorkflow, TStepInput, TStepOutput>(host, definition, step, recorded).RunAsync(cancellationToken);
    }
}
