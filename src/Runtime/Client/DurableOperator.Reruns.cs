using System.Globalization;
using Durably.Runtime.Client;
using Durably.Runtime.Journal;
using Durably.Runtime.Replay;

namespace Durably.Runtime;

/// <summary>Rerunning a run from a step, after a fix: a new run with the original's journal before that step.</summary>
public sealed partial class DurableOperator
{
    /// <summary>
    /// Creates a new run of run <paramref name="workflowId"/>'s workflow and version, with the same input, whose journal
    /// holds the original's rows before sequence <paramref name="fromSequence"/> — those operations are not run again, their
    /// recorded outcomes are replayed — so the rest runs on today's code: how to go on after fixing a bug, without
    /// repeating what worked. The new run's steps have their own idempotency keys (they start with its id). Both runs
    /// record the rerun in their operators' actions (<c>rerun-of:</c> on the new run, <c>rerun-as:</c> on the original).
    /// The new run is claimed by a worker that runs that workflow version: with this process's contract of it when this
    /// process registers it, else (a tool such as the CLI) with the original's.
    /// </summary>
    /// <param name="workflowId">The run to rerun; it must have ended (completed, failed, cancelled or dead-lettered).</param>
    /// <param name="fromSequence">
    /// The first operation to run again (see the run's timeline); 0 reruns the whole run. It must not split a fan-out:
    /// every operation before it must have finished before it was called.
    /// </param>
    /// <param name="operatorReason">Who reruns it and why.</param>
    /// <param name="newWorkflowId">The new run's id; by default the original's followed by <c>-rerun-</c> and eight random hex digits.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The new run's id.</returns>
    /// <exception cref="WorkflowNotFoundException">No run has the id.</exception>
    /// <exception cref="ArgumentException">An id is malformed, the reason empty or too long, or the new id is taken.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fromSequence"/> is negative or past the run's journal.</exception>
    /// <exception cref="InvalidOperationException">
    /// The run is still running, an operation before <paramref name="fromSequence"/> had not finished, or the sequence is
    /// inside a fan-out; the message says which sequences would do.
    /// </exception>
    /// <exception cref="NotSupportedException">The store cannot create a run with a journal (<see cref="IWorkflowStoreReruns"/>).</exception>
    public async Task<string> RerunFromAsync(string workflowId, long fromSequence, OperatorReason operatorReason, string? newWorkflowId = null,
        CancellationToken cancellationToken = default)
    {
        var log = Prepare(workflowId, operatorReason);
        ArgumentOutOfRangeException.ThrowIfNegative(fromSequence);
        if (newWorkflowId is not null)
        {
            ClientArguments.ValidateId(newWorkflowId, "new workflow id", nameof(newWorkflowId));
            ClientArguments.RefuseContinuationSuffix(newWorkflowId);
        }

        var context = _engine.Context;
        var reruns = context.Store as IWorkflowStoreReruns ?? throw new NotSupportedException(
            $"The store {context.Store.GetType().FullName} does not implement IWorkflowStoreReruns, so it cannot create a run with a journal.");
        var snapshot = await context.Store.LoadAsync(workflowId, cancellationToken).ConfigureAwait(false) ?? throw new WorkflowNotFoundException(workflowId);
        var source = snapshot.Run;
        var prefix = RerunPlan.Prefix(snapshot, fromSequence);
        // Today's contract of that version when this process registers it; otherwise (the CLI) the original's, which the
        // workers running that version's code take.
        var fingerprint = context.Registry.Find(source.WorkflowName, source.Version)?.Fingerprint ?? source.Fingerprint;

        var id = newWorkflowId ?? $"{(workflowId.Length > 200 ? workflowId[..200] : workflowId)}-rerun-{Guid.NewGuid().ToString("N")[..8]}";
        var now = context.UtcNow();
        var run = RunRecord.Started(id, source.WorkflowName, source.Version, source.InputJson, now, fingerprint: fingerprint);
        if (!await reruns.CreateRunWithJournalAsync(run, [.. prefix.Select(e => e with { WorkflowId = id })], cancellationToken).ConfigureAwait(false))
        {
            throw new ArgumentException($"Run id '{id}' is taken; pick another id for the rerun of '{workflowId}'. Nothing was created.", nameof(newWorkflowId));
        }

        context.RunsAvailable.Set();
        var from = fromSequence.ToString(CultureInfo.InvariantCulture);
        await RecordAsync(log, id, $"rerun-of:{workflowId}#{from}", operatorReason, cancellationToken).ConfigureAwait(false);
        await RecordAsync(log, workflowId, $"rerun-as:{id}#{from}", operatorReason, cancellationToken).ConfigureAwait(false);
        return id;
    }
}

/// <summary>Which rows of a run's journal a rerun from a sequence copies, and why a sequence will not do.</summary>
internal static class RerunPlan
{
    /// <summary>The rows before <paramref name="fromSequence"/>, in order, after checking that a rerun from there replays faithfully.</summary>
    public static IReadOnlyList<JournalEntry> Prefix(RunSnapshot snapshot, long fromSequence)
    {
        var run = snapshot.Run;
        if (run.Status == WorkflowStatus.Running)
        {
            throw new InvalidOperationException(
                $"Run '{run.WorkflowId}' is still running; a rerun would do its work a second time beside it. Cancel it (or wait for it to end), then rerun it.");
        }

        // A compensation belongs to the original's rollback, not to its run method: never copied.
        var rows = snapshot.Journal.Where(e => e.Kind != OperationKind.Compensation).OrderBy(e => e.Sequence).ToList();
        var next = rows.Count == 0 ? 0 : rows[^1].Sequence + 1;
        if (fromSequence > next)
        {
            throw new ArgumentOutOfRangeException(nameof(fromSequence), fromSequence,
                $"Run '{run.WorkflowId}' has operations 0 to {next - 1}; rerun it from one of them, or from {next} to replay them all and go on from its end.");
        }

        var split = new Splits(rows);
        var at = rows.Count(e => e.Sequence < fromSequence);
        if (split.Problem(at) is { } problem)
        {
            var before = Enumerable.Range(0, at).Reverse().Where(i => split.Problem(i) is null).Select(split.SequenceAt).FirstOrDefault(-1);
            var after = Enumerable.Range(at + 1, rows.Count - at).Where(i => split.Problem(i) is null).Select(split.SequenceAt).FirstOrDefault(-1);
            var options = string.Join(" or ", new[] { before, after }.Where(s => s >= 0).Select(s => $"from {s}"));
            throw new InvalidOperationException($"Run '{run.WorkflowId}' cannot be rerun from sequence {fromSequence}: {problem}. Rerun it {options}.");
        }

        return [.. rows.Take(at).Select(e => e with { RetryAt = null })];
    }

    /// <summary>
    /// Where a run's journal (rows by sequence, compensations left out) may be split into a copied prefix and a rest
    /// that runs again — answered for every split at once (prefix and suffix aggregates), so that finding the nearest
    /// good splits of a long journal stays linear.
    /// </summary>
    private sealed class Splits
    {
        private readonly List<JournalEntry> _rows;
        private readonly int[] _firstOpen;
        private readonly int[] _latestEnd;
        private readonly long[] _lastDelivered;
        private readonly long[] _firstDelivered;

        public Splits(List<JournalEntry> rows)
        {
            _rows = rows;
            var n = rows.Count;
            // For a prefix of i rows: the first unfinished row in it, the row in it that finished last, and the latest
            // completion index it holds; for the rest from row i: the earliest completion index.
            _firstOpen = new int[n + 1];
            _latestEnd = new int[n + 1];
            _lastDelivered = new long[n + 1];
            _firstDelivered = new long[n + 1];
            (_firstOpen[0], _latestEnd[0], _lastDelivered[0]) = (-1, -1, -1);
            for (var i = 0; i < n; i++)
            {
                var row = rows[i];
                _firstOpen[i + 1] = _firstOpen[i] >= 0 || row.IsTerminal ? _firstOpen[i] : i;
                _latestEnd[i + 1] = _latestEnd[i] >= 0 && rows[_latestEnd[i]].CompletedAt >= row.CompletedAt ? _latestEnd[i] : i;
                _lastDelivered[i + 1] = Math.Max(_lastDelivered[i], row.CompletionIndex ?? -1);
            }

            _firstDelivered[n] = long.MaxValue;
            for (var i = n - 1; i >= 0; i--)
            {
                _firstDelivered[i] = Math.Min(_firstDelivered[i + 1], rows[i].CompletionIndex ?? long.MaxValue);
            }
        }

        /// <summary>The sequence a rerun that copies the first <paramref name="i"/> rows starts from.</summary>
        public long SequenceAt(int i) => i < _rows.Count ? _rows[i].Sequence : _rows.Count == 0 ? 0 : _rows[^1].Sequence + 1;

        /// <summary>Why copying the first <paramref name="i"/> rows would not replay as the original ran, or null.</summary>
        public string? Problem(int i)
        {
            if (_firstOpen[i] >= 0)
            {
                var open = _rows[_firstOpen[i]];
                return $"{ReplayCursor.Describe(open)} at sequence {open.Sequence} had not finished";
            }

            if (i == _rows.Count)
            {
                return null;
            }

            // The first operation run again must have been called after every copied one had finished and been
            // delivered; otherwise the run method saw an order of outcomes the new run cannot reproduce.
            var first = _rows[i];
            var overlapping = _latestEnd[i] >= 0 && _rows[_latestEnd[i]].CompletedAt > first.StartedAt ? _rows[_latestEnd[i]]
                : _lastDelivered[i] > _firstDelivered[i] ? _rows.Take(i).First(a => a.CompletionIndex > _firstDelivered[i])
                : null;
            return overlapping is null ? null
                : $"it is inside a fan-out: {ReplayCursor.Describe(first)} (sequence {first.Sequence}) was called while {ReplayCursor.Describe(overlapping)} (sequence {overlapping.Sequence}) was still running";
        }
    }
}
