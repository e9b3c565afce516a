using Durably.Runtime.Journal;
using Durably.Runtime.Replay;

namespace Durably.Runtime;

/// <summary>How far a run has come: its published status and its steps' progress.</summary>
public sealed partial class DurableClient
{
    /// <inheritdoc/>
    public async Task<WorkflowProgress<TStatus>?> GetProgressAsync<TStatus>(string workflowId, CancellationToken cancellationToken = default)
    {
        if (await GetRunDetailsAsync(workflowId, cancellationToken).ConfigureAwait(false) is not { } details)
        {
            return null;
        }

        // As for its result: a run that continued as new is followed to the newest run, which says how far the loop is.
        while (details.Run is { Status: WorkflowStatus.ContinuedAsNew, ContinuedAs: { } next }
            && await GetRunDetailsAsync(next, cancellationToken).ConfigureAwait(false) is { } newer)
        {
            details = newer;
            workflowId = next;
        }

        var status = default(TStatus);
        if (details.StatusJson is { } json)
        {
            try
            {
                status = _engine.Context.StatusSerializer.Deserialize<TStatus>(json, $"The status of run '{workflowId}'");
            }
            catch (PayloadException ex)
            {
                throw new ArgumentException($"{ex.Message} Ask for the type the run method publishes with Workflow.SetStatus.", nameof(TStatus), ex);
            }
        }

        return new WorkflowProgress<TStatus>(workflowId, details.Run.Status, details.StatusJson is not null, status, details.StatusUpdatedAt,
            [.. details.CurrentOperations.Where(o => o.Kind == WorkflowOperationKind.Step)]);
    }

    /// <summary>Adds to each step in progress the progress it reported last; reports of steps that have since ended are not shown.</summary>
    private static List<WorkflowOperationInfo> WithProgress(List<WorkflowOperationInfo> operations, RunStatusRecord? published)
    {
        var reports = ProgressEntry.Parse(published?.ProgressJson).ToDictionary(p => p.Sequence);
        if (reports.Count == 0)
        {
            return operations;
        }

        for (var i = 0; i < operations.Count; i++)
        {
            var operation = operations[i];
            if (operation.Kind == WorkflowOperationKind.Step && operation.State == WorkflowOperationState.InProgress
                && reports.TryGetValue(operation.Sequence, out var report) && report.Step == operation.Name)
            {
                operations[i] = operation with { Progress = new StepProgress(report.Fraction, report.Message, report.At) };
            }
        }

        return operations;
    }
}
