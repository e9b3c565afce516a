using Durably.Runtime.Journal;

namespace Durably.Runtime;

/// <summary>Versions: the drain view, and a run's export for replay tests.</summary>
public sealed partial class DurableClient
{
    /// <inheritdoc/>
    public async Task<IReadOnlyList<WorkflowVersionInfo>> ListWorkflowVersionsAsync(CancellationToken cancellationToken = default)
    {
        var versions = await _engine.Context.Store.ListActiveVersionsAsync(cancellationToken).ConfigureAwait(false);
        return [.. versions.Select(v => new WorkflowVersionInfo(v.Workflow.Name, v.Workflow.Version, v.Fingerprint, v.ActiveRuns, v.WaitingForWorker, v.OldestStartedAt, v.HasLiveWorker))];
    }

    /// <inheritdoc/>
    public async Task<string> ExportRunAsync(string workflowId, CancellationToken cancellationToken = default)
    {
        ValidateWorkflowId(workflowId);
        var snapshot = await _engine.Context.Store.LoadAsync(workflowId, cancellationToken).ConfigureAwait(false)
            ?? throw new WorkflowNotFoundException(workflowId);
        return RunExport.Write(snapshot);
    }
}
