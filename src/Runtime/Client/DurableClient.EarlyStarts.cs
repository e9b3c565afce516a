using Durably.Runtime.Engine;
using Durably.Runtime.Journal;

namespace Durably.Runtime;

/// <summary>Early starts: a run held by this process's worker begins before its start is on disk (see <see cref="IWorkflowStoreEarlyStarts"/>).</summary>
public sealed partial class DurableClient
{
    /// <summary>
    /// Runs an early start here and returns once the start is durable: the execution settles it with its first durable
    /// write — a short run's end, a quick step's outcome — or with the store's barrier when it first waits for anything
    /// else (see <see cref="EarlyStart"/>). A run that ended meanwhile leaves its outcome for the caller's
    /// <c>WaitForResultAsync</c>. If the database lost the start (its server restarted before the flush), the run is
    /// created again, durably and held by no one, at a later epoch — so the execution begun here is fenced out — and any
    /// worker claims it.
    /// </summary>
    private async Task RunEarlyAsync(IWorkflowStoreEarlyStarts early, ILocalRunner local, RunRecord stored, RunRecord record, CancellationToken cancellationToken)
    {
        var start = _engine.Context.EarlyStarts.Add(stored.WorkflowId, new EarlyStart(() => early.EnsureStartDurableAsync(stored.WorkflowId, CancellationToken.None)));
        await RunHereAsync(start, local, stored, record, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs a start here before its row is even sent: the execution begins in memory at once, and sends the row before the
    /// run's first write — or, when the run ends first, writes it already ended, in the run's one durable write. Returns
    /// the stored run and whether this start created it, once that is known and (when created) durable. Not created — its
    /// id was already used — the execution stops having written nothing, and the caller answers as for any taken id.
    /// </summary>
    private async Task<(RunRecord Stored, bool Created, EarlyStart? Start)> RunUnsentAsync(
        IWorkflowStoreEarlyStarts early, ILocalRunner local, RunRecord record, CancellationToken cancellationToken)
    {
        // Run here from this record rather than from the stored row: its times are cut to what a store keeps (whole
        // microseconds), so that a later execution replaying from the stored row sees the very same start.
        record = record with { CreatedAt = WholeMicroseconds(record.CreatedAt), UpdatedAt = WholeMicroseconds(record.UpdatedAt), LeaseExpiresAt = record.LeaseExpiresAt is { } lease ? WholeMicroseconds(lease) : null };
        var workflowId = record.WorkflowId;
        var start = _engine.Context.EarlyStarts.Add(workflowId, new EarlyStart(() => early.EnsureStartDurableAsync(workflowId, CancellationToken.None), record, early));
        var (stored, created) = await RunHereAsync(start, local, record, record, cancellationToken, start.Created).ConfigureAwait(false);
        return (stored, created, start);

        static DateTimeOffset WholeMicroseconds(DateTimeOffset time) => time.AddTicks(-(time.Ticks % 10));
    }

    /// <summary>A create's result, with no start of this process to settle.</summary>
    private static async Task<(RunRecord Stored, bool Created, EarlyStart? Start)> WithoutStartAsync(Task<(RunRecord Run, bool Created)> create)
    {
        var (stored, created) = await create.ConfigureAwait(false);
        return (stored, created, null);
    }

    private async Task<(RunRecord Stored, bool Created)> RunHereAsync(EarlyStart start, ILocalRunner local, RunRecord stored, RunRecord record, CancellationToken cancellationToken,
        Task<(RunRecord Run, bool Created)>? created = null)
    {
        var context = _engine.Context;
        var workflowId = stored.WorkflowId;
        using var finished = context.WhenFinished(workflowId);
        local.Run(new RunLease(workflowId, local.WorkerName, stored.Epoch), new RunSnapshot(stored, []));
        if (created is not null && await created.WaitAsync(cancellationToken).ConfigureAwait(false) is { Created: false } taken)
        {
            return taken;
        }

        if (await start.Durable.WaitAsync(cancellationToken).ConfigureAwait(false))
        {
            if (finished.Task.IsCompletedSuccessfully && finished.Task.Result is { } outcome)
            {
                context.KeepOutcome(workflowId, outcome);
            }

            return (stored, true);
        }

        await context.Store.CreateRunAsync(record with { Owner = null, LeaseExpiresAt = null, Epoch = record.Epoch + 1 }, cancellationToken).ConfigureAwait(false);
        context.RunsAvailable.Set();
        return (stored, true);
    }
}
