using Durably.Runtime.Journal;
using Durably.Runtime.Policies;
using Durably.Runtime.Replay;

namespace Durably.Runtime.Compensation;

/// <summary>
/// The compensation of a child run that completed, when its parent rolls back: the child is reopened with a cancel
/// requested (<see cref="IWorkflowStoreChildren.RollBackChildAsync"/>), so that a worker compensates its journal — its
/// own steps and, the same way, its own children — and ends it cancelled. Journaled at the child row's compensation
/// sequence like a step's compensation, so a rollback resumed after a crash asks once more at most (asking twice
/// changes nothing).
/// </summary>
internal sealed class ChildRollback(IOperationHost host, JournalEntry row, JournalEntry? recorded)
{
    private string What(string childId) => $"rollback of child workflow '{row.OperationId}' (run '{childId}', sequence {row.Sequence}) of {host.RunName}";

    public async Task<RollbackResult> RunAsync(CancellationToken cancellationToken)
    {
        var engine = host.Engine;
        string childId;
        try
        {
            childId = engine.Serializer.Deserialize<string>(row.InputJson ?? "null", $"The child run's id at sequence {row.Sequence} of {host.RunName}");
        }
        catch (PayloadException ex)
        {
            return Failed($"The rollback of the child at sequence {row.Sequence} of {host.RunName} cannot run: {ex.Message}");
        }

        var draft = JournalEntry.Attempting(host.WorkflowId, JournalEntry.CompensationSequenceOf(row.Sequence), row.OperationId, OperationKind.Compensation,
            row.InputJson, recorded?.StartedAt ?? engine.UtcNow());
        var attempt = await engine.Store.RecordAttemptAsync(host.Lease, draft, JournalDurability.Durable, cancellationToken).ConfigureAwait(false);
        if (attempt.Fenced)
        {
            return new RollbackResult(Fenced: true, null);
        }

        var entry = attempt.Entry!;
        if (entry.IsTerminal)
        {
            return entry.State == JournalEntryState.Completed ? RollbackResult.Done : Failed($"The {What(childId)} failed: {entry.Error}. The run is parked for an operator.");
        }

        // Asked, not awaited: the child rolls back on a worker of its own, and a parent waiting here would hold a slot a
        // child may need (many parents rolling back at once would starve their children). A child whose own rollback
        // cannot finish is parked as a dead letter, with its alert.
        await ((IWorkflowStoreChildren)engine.Store).RollBackChildAsync(childId, ChildLink.RolledBackReasonOf(host.WorkflowId), cancellationToken).ConfigureAwait(false);
        engine.NotifySignalled(childId);
        engine.RunsAvailable.Set();
        var written = await engine.Store.CompleteEntryAsync(host.Lease, JournaledAttempts.Completed(entry, null) with { CompletedAt = engine.UtcNow() }, cancellationToken).ConfigureAwait(false);
        return written.Fenced ? new RollbackResult(Fenced: true, null) : RollbackResult.Done;
    }

    private RollbackResult Failed(string message) => new(Fenced: false, new CompensationFailedException(message, row.OperationId, row.Sequence));
}
