using System.Collections.Concurrent;
using Durably.Runtime;
using Durably.Runtime.Journal;

namespace Durably.Testing;

// Reading a run's journal and history: the store's journal, with the retries and alerts this host saw.
public sealed partial class DurableTestHost
{
    private readonly HistoryRecorder _recorder;

    /// <summary>
    /// Reads run <paramref name="workflowId"/>'s journal and history: which steps ran and in what order, their attempts,
    /// retries with their times and idempotency keys, compensations, signals, timers, the dead-letter reason and the
    /// alerts raised. Alerts on their way to the sinks are waited for first.
    /// </summary>
    /// <param name="workflowId">The run.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The history; print it with <see cref="RunHistory.ToString"/>.</returns>
    /// <exception cref="WorkflowNotFoundException">No run has the id in this host's store.</exception>
    public async Task<RunHistory> GetHistoryAsync(string workflowId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(workflowId);
        ObjectDisposedException.ThrowIf(_disposed, this);
        await Engine.Telemetry.Alerts.FlushAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        var snapshot = await Engine.Store.LoadAsync(workflowId, cancellationToken).ConfigureAwait(false)
            ?? throw new WorkflowNotFoundException(workflowId);
        var operations = snapshot.Journal
            .OrderBy(e => e.CompletionIndex ?? long.MaxValue)
            .ThenBy(e => e.CompletedAt ?? DateTimeOffset.MaxValue)
            .ThenBy(e => e.Sequence >= 0 ? e.Sequence : long.MaxValue + e.Sequence)
            .Select(e => new HistoryOperation(e, _recorder.RetriesOf(workflowId, e)))
            .ToList();
        return new RunHistory(snapshot.Run, operations, _recorder.AlertsOf(workflowId));
    }

    /// <summary>Where a run stands (<see cref="DescribeRunAsync"/>), then its whole journal and history, for a failure message.</summary>
    private async Task<string> DescribeWithJournalAsync(string workflowId)
    {
        var state = await DescribeRunAsync(workflowId, CancellationToken.None).ConfigureAwait(false);
        var snapshot = await Engine.Store.LoadAsync(workflowId, CancellationToken.None).ConfigureAwait(false);
        return snapshot is null ? state : state + Environment.NewLine + "History:" + Environment.NewLine + (await GetHistoryAsync(workflowId).ConfigureAwait(false));
    }

    /// <summary>What the engine tells the host as it happens: each scheduled retry, each alert.</summary>
    private sealed class HistoryRecorder : IDurableAlertSink
    {
        private readonly ConcurrentQueue<Durably.Runtime.Observability.ScheduledRetry> _retries = new();
        private readonly ConcurrentQueue<DurableAlert> _alerts = new();

        public void Retried(Durably.Runtime.Observability.ScheduledRetry retry) => _retries.Enqueue(retry);

        public Task SendAsync(DurableAlert alert, CancellationToken cancellationToken)
        {
            _alerts.Enqueue(alert);
            return Task.CompletedTask;
        }

        public IReadOnlyList<HistoryRetry> RetriesOf(string workflowId, JournalEntry entry)
            => entry.Kind != OperationKind.Step
                ? []
                : [.. _retries.Where(r => r.WorkflowId == workflowId && r.Sequence == entry.Sequence)
                    .Select(r => new HistoryRetry(r.FailedAttempt, r.FailedAt, r.RetryAt, $"{r.Failure.GetType().FullName}: {r.Failure.Message}"))];

        public IReadOnlyList<DurableAlert> AlertsOf(string workflowId) => [.. _alerts.Where(a => a.WorkflowId == workflowId)];
    }
}
