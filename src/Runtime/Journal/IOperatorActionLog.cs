namespace Durably.Runtime.Journal;

/// <summary>
/// The record of what operators did to runs — who cancelled, retried, discarded or signalled a run, when, and why — kept
/// by the store beside the runs so every dashboard and CLI reading it sees the same trail. The built-in stores implement
/// it; <see cref="DurableOperator"/> refuses operator actions on a store that does not, rather than act unrecorded.
/// </summary>
public interface IOperatorActionLog
{
    /// <summary>Appends <paramref name="action"/> to its run's trail.</summary>
    /// <param name="action">What was done.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes once the record is durable.</returns>
    Task RecordOperatorActionAsync(OperatorActionRecord action, CancellationToken cancellationToken);

    /// <summary>Reads the newest <paramref name="limit"/> actions on run <paramref name="workflowId"/>, newest first.</summary>
    /// <param name="workflowId">The run.</param>
    /// <param name="limit">The most records to return.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The records, newest first (in the order they were recorded).</returns>
    Task<IReadOnlyList<OperatorActionRecord>> ListOperatorActionsAsync(string workflowId, int limit, CancellationToken cancellationToken);
}

/// <summary>One thing an operator did to a run (see <see cref="IOperatorActionLog"/>).</summary>
/// <param name="WorkflowId">The run.</param>
/// <param name="Action">What was done: <c>cancel</c>, <c>retry</c>, <c>discard</c>, <c>signal:&lt;name&gt;</c>.</param>
/// <param name="Actor">Who did it: the signed-in user's name, or the operating-system user of a CLI.</param>
/// <param name="Reason">Why, as the operator wrote it.</param>
/// <param name="At">When it was recorded.</param>
public sealed record OperatorActionRecord(string WorkflowId, string Action, string Actor, string Reason, DateTimeOffset At);
