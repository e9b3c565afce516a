using Durably.Runtime.Journal;
using Durably.Runtime.Policies;
using Durably.Runtime.Replay;

namespace Durably.Runtime.Compensation;

/// <summary>
/// The compensation of a child run that completed, when its parent rolls back: the child is reopened with a cancel
/// requested (<see cref="IWorkflowStoreChildren.RollBackChildAsync"/>), so that a worker compensates its journal — its
/// own steps and, the same way, its own children — and ends it cancelled; this waits for that end. Journaled at the
/// child row's compensation sequence like a step's compensation, so a rollback resumed after a crash does not repeat it.
/// </summary>
internal sealed class ChildRollback(IOperationHost host, JournalEntry row, JournalEntry? recorded)
{
    private static readonly TimeSpan s_firstLook = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan s_slowestLook = TimeSpan.FromSeconds(1);

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

        // Woken when the child ends in this process, else by a look now and then (on the real clock: this is a poll,
        // not a durable wait, and a test host's virtual clock does not move while a run rolls back).
        using var finished = engine.WhenFinished(childId);
        var ended = (Task)finished.Task;
        var child = await ((IWorkflowStoreChildren)engine.Store).RollBackChildAsync(childId, ChildLink.RolledBackReasonOf(host.WorkflowId), cancellationToken).ConfigureAwait(false);
        engine.NotifySignalled(childId);
        engine.RunsAvailable.Set();
        var look = s_firstLook;
        while (child is { Status: WorkflowStatus.Running })
        {
            await Task.WhenAny(ended, Task.Delay(look, TimeProvider.System, cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            if (ended.IsCompleted)
            {
                // Told once; from now on only the looks.
                ended = Task.Delay(Timeout.Infinite, cancellationToken);
            }

            look = look * 2 < s_slowestLook ? look * 2 : s_slowestLook;
            child = await engine.Store.GetRunAsync(childId, cancellationToken).ConfigureAwait(false);
        }

        // Undone: rolled back to a cancelled end, or it had failed (and undone itself) or gone; a child whose own rollback
        // could not finish is parked, and so is this run.
        var undone = child is null or { Status: WorkflowStatus.Cancelled or WorkflowStatus.Failed };
        var failure = undone ? null : new InvalidOperationException($"Child run '{childId}' ended {child!.Status} instead of rolling back: {child.Error}");
        var terminal = (failure is null ? JournaledAttempts.Completed(entry, null) : JournaledAttempts.Failed(entry, failure)) with { CompletedAt = engine.UtcNow() };
        var written = await engine.Store.CompleteEntryAsync(host.Lease, terminal, cancellationToken).ConfigureAwait(false);
        return written.Fenced ? new RollbackResult(Fenced: true, null)
            : failure is null ? RollbackResult.Done
            : Failed($"The {What(childId)} failed: {failure.Message}. The run is parked for an operator.");
    }

    private RollbackResult Failed(string message) => new(Fenced: false, new CompensationFailedException(message, row.OperationId, row.Sequence));
}
