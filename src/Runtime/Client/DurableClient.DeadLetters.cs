using Durably.Runtime.Client;
using Durably.Runtime.Journal;

namespace Durably.Runtime;

/// <summary>Dead letters: the runs parked for an operator, listed, inspected, retried or discarded.</summary>
public sealed partial class DurableClient
{
    /// <inheritdoc/>
    public async Task<DeadLetterPage> ListDeadLettersAsync(WorkflowRunQuery? query = null, CancellationToken cancellationToken = default)
    {
        query ??= new WorkflowRunQuery();
        if (query.Status is { } status && status != WorkflowStatus.DeadLettered)
        {
            throw new ArgumentException(
                $"ListDeadLettersAsync lists dead-lettered runs; WorkflowRunQuery.Status must be unset or {WorkflowStatus.DeadLettered}, not {status}.", nameof(query));
        }

        var page = await ListRunsAsync(query with { Status = WorkflowStatus.DeadLettered }, cancellationToken).ConfigureAwait(false);
        var letters = new List<DeadLetter>(page.Runs.Count);
        foreach (var run in page.Runs)
        {
            // Read with its journal; a run retried or discarded since the listing is no longer a dead letter.
            if (await GetDeadLetterAsync(run.WorkflowId, cancellationToken).ConfigureAwait(false) is { } letter)
            {
                letters.Add(letter);
            }
        }

        return new DeadLetterPage(letters, page.NextPageToken);
    }

    /// <inheritdoc/>
    public async Task<DeadLetter?> GetDeadLetterAsync(string workflowId, CancellationToken cancellationToken = default)
    {
        ValidateWorkflowId(workflowId);
        if (await _engine.Context.Store.LoadAsync(workflowId, cancellationToken).ConfigureAwait(false) is not { Run.Status: WorkflowStatus.DeadLettered } snapshot)
        {
            return null;
        }

        var run = snapshot.Run;
        var failed = run.FailedSequence is { } sequence ? snapshot.Journal.FirstOrDefault(e => e.Sequence == sequence) : null;
        return new DeadLetter(run.ToInfo(), DeadLetterReasonOf(run, failed), failed is null ? null : ToOperation(failed));
    }

    /// <summary>What parked a run, from its error and the journal row of the operation that failed.</summary>
    private static DeadLetterReason DeadLetterReasonOf(RunRecord run, JournalEntry? failed)
    {
        var type = run.Error?.Type;
        return failed?.Kind == OperationKind.Compensation || type == typeof(CompensationFailedException).FullName ? DeadLetterReason.CompensationFailed
            : type == typeof(NonDeterminismException).FullName ? DeadLetterReason.NonDeterminism
            : type == typeof(PayloadException).FullName ? DeadLetterReason.UnreadablePayload
            : type == typeof(UnreadableJournalException).FullName ? DeadLetterReason.UnreadableJournalRow
            : failed is not null ? DeadLetterReason.StepFailed
            : DeadLetterReason.RunFailed;
    }

    /// <inheritdoc/>
    public async Task RetryDeadLetterAsync(string workflowId, CancellationToken cancellationToken = default)
    {
        ValidateWorkflowId(workflowId);
        await ReviveAsync(workflowId, null, "retried", cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task DiscardDeadLetterAsync(string workflowId, string? reason = null, CancellationToken cancellationToken = default)
    {
        ValidateWorkflowId(workflowId);
        ClientArguments.ValidateReason(workflowId, reason, "discard");
        await ReviveAsync(workflowId, string.IsNullOrEmpty(reason) ? "Discarded from the dead letters; no reason was given." : reason, "discarded", cancellationToken)
            .ConfigureAwait(false);
    }

    private async Task ReviveAsync(string workflowId, string? cancelReason, string operation, CancellationToken cancellationToken)
    {
        var found = await _engine.Context.Store.ReviveDeadLetterAsync(workflowId, cancelReason, cancellationToken).ConfigureAwait(false)
            ?? throw new WorkflowNotFoundException(workflowId);
        if (found.Status != WorkflowStatus.DeadLettered)
        {
            throw new WorkflowNotDeadLetteredException(workflowId, found.Status, operation);
        }

        _engine.Context.RunsAvailable.Set();
    }
}
