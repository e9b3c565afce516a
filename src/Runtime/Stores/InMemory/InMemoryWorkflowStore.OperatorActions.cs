using Durably.Runtime.Journal;

namespace Durably.Runtime.Stores;

/// <summary>The operators' trail, in recording order.</summary>
public sealed partial class InMemoryWorkflowStore : IOperatorActionLog
{
    private readonly List<OperatorActionRecord> _operatorActions = [];

    /// <inheritdoc/>
    public Task RecordOperatorActionAsync(OperatorActionRecord action, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(action);
        lock (_gate)
        {
            _operatorActions.Add(action);
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<OperatorActionRecord>> ListOperatorActionsAsync(string workflowId, int limit, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            IReadOnlyList<OperatorActionRecord> actions = [.. _operatorActions.Where(a => a.WorkflowId == workflowId).Reverse().Take(limit)];
            return Task.FromResult(actions);
        }
    }
}
