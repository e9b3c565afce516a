using Durably.Runtime.Journal;

namespace Durably.Runtime.Stores;

/// <summary>Purging ended runs, oldest first.</summary>
public sealed partial class InMemoryWorkflowStore : IWorkflowStoreRetention
{
    /// <inheritdoc/>
    public Task<IReadOnlyList<string>> PurgeRunsAsync(RunPurgeQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        lock (_gate)
        {
            IReadOnlyList<string> ids = [.. _runs.Values
                .Where(r => RunPurgeQuery.PurgedStatuses.Contains(r.Status) && r.UpdatedAt < query.EndedBefore && (query.WorkflowName is null || r.WorkflowName == query.WorkflowName))
                .OrderBy(r => r.UpdatedAt)
                .Take(query.Limit)
                .Select(r => r.WorkflowId)];
            foreach (var id in ids)
            {
                _runs.Remove(id);
                _journals.Remove(id);
                _signals.Remove(id);
                _runStatus.Remove(id);
                _operatorActions.RemoveAll(a => a.WorkflowId == id);
                ForgetLinks(id);
            }

            return Task.FromResult(ids);
        }
    }
}
