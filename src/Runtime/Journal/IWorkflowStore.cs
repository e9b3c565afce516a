namespace Durably.Runtime.Journal;

/// <summary>
/// Where runs and their journals live. Every store passes the same conformance suite; every write that changes a
/// run's journal or state checks, atomically, that the run is still active and that the writer's lease is current.
/// </summary>
/// <remarks>
/// For store authors: applications choose a store with <c>UseSqlite</c>, <c>UsePostgres</c> or <c>UseInMemoryStore</c>
/// and never call this interface. The contract and how to test a new store: <c>docs/store-authors.md</c>.
/// </remarks>
public interface IWorkflowStore
{
    /// <summary>
    /// Inserts <paramref name="run"/> unless a run with its id exists or, when it has a
    /// <see cref="RunRecord.InstanceKey"/>, an active run of the same workflow holds that key — atomically, so that of
    /// concurrent inserts with one key (from any number of processes) exactly one succeeds.
    /// </summary>
    /// <remarks>
    /// A run with an <see cref="RunRecord.Owner"/> is created already claimed: held by that worker with
    /// <see cref="RunRecord.Epoch"/> as its lease's epoch (and, where leases are per run, until
    /// <see cref="RunRecord.LeaseExpiresAt"/>), exactly as if that worker had claimed it — the starter's own worker
    /// runs it without a claim. No idle worker needs waking for such a run.
    /// </remarks>
    /// <param name="run">The new run's row.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>
    /// Whether this call created the run, and the stored row: the new run, the run with its id, or (another id) the
    /// active run that holds its instance key.
    /// </returns>
    Task<(RunRecord Run, bool Created)> CreateRunAsync(RunRecord run, CancellationToken cancellationToken);

    /// <summary>Reads a run's row.</summary>
    /// <param name="workflowId">The run's id.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The row, or <see langword="null"/>.</returns>
    Task<RunRecord?> GetRunAsync(string workflowId, CancellationToken cancellationToken);

    /// <summary>
    /// Lists runs newest first — by <see cref="RunRecord.CreatedAt"/> descending, then <see cref="RunRecord.WorkflowId"/>
    /// descending — that match <paramref name="query"/>, starting after its cursor.
    /// </summary>
    /// <param name="query">Filters, cursor and limit.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>Up to <see cref="RunListQuery.Limit"/> rows.</returns>
    Task<IReadOnlyList<RunRecord>> ListRunsAsync(RunListQuery query, CancellationToken cancellationToken);

    /// <summary>Reads a run and its whole journal in one read.</summary>
    /// <param name="workflowId">The run's id.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The snapshot, or <see langword="null"/>.</returns>
    Task<RunSnapshot?> LoadAsync(string workflowId, CancellationToken cancellationToken);

    /// <summary>
    /// Claims an active run for <paramref name="owner"/> when it is unowned, already <paramref name="owner"/>'s, or its
    /// lease has expired (whether or not it is unloaded and due); the claim increments the epoch, fencing every earlier
    /// holder, and clears <see cref="RunRecord.WakeAt"/>: the run is loaded.
    /// </summary>
    /// <param name="workflowId">The run's id.</param>
    /// <param name="owner">The claiming worker.</param>
    /// <param name="leaseDuration">How long the claim lasts unless renewed.</param>
    /// <param name="cancellationToken">Cancels the claim.</param>
    /// <returns>
    /// The lease, with <see cref="RunLease.TakenFrom"/> the owner the run still had (a recovery), or
    /// <see langword="null"/> when the run is not active or another worker holds it.
    /// </returns>
    Task<RunLease?> TryClaimAsync(string workflowId, string owner, TimeSpan leaseDuration, CancellationToken cancellationToken);

    /// <summary>
    /// Lists up to <paramref name="limit"/> active runs <paramref name="owner"/> could claim now: unowned and not unloaded
    /// (or unloaded and due: <see cref="RunRecord.WakeAt"/> has passed), already its own (a restarted worker with the
    /// same name), or with an expired lease — and, when <paramref name="runnable"/> is given, of one of those workflow
    /// versions only (a worker never claims a run its code cannot replay). Oldest first.
    /// </summary>
    /// <param name="owner">The worker asking.</param>
    /// <param name="runnable">The workflow versions the worker can run; every run when <see langword="null"/>.</param>
    /// <param name="limit">The most ids to return.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The run ids.</returns>
    Task<IReadOnlyList<string>> ListClaimableAsync(string owner, IReadOnlyCollection<WorkflowVersion>? runnable, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Claims, in one round trip, up to <paramref name="limit"/> of the runs <see cref="ListClaimableAsync"/> would list
    /// (oldest first), skipping <paramref name="exclude"/> and runs another worker is claiming at the same moment: each
    /// claim bumps the run's epoch and makes <paramref name="owner"/> its holder for <paramref name="leaseDuration"/>,
    /// exactly as <see cref="TryClaimAsync"/> does. Also says when the next run it could not claim may become claimable,
    /// so an idle worker sleeps until then rather than polling.
    /// </summary>
    /// <param name="owner">The worker claiming.</param>
    /// <param name="runnable">The workflow versions the worker can run; every run when <see langword="null"/>.</param>
    /// <param name="exclude">Runs not to claim: those the worker is executing now (they are already its own).</param>
    /// <param name="limit">The most runs to claim (the worker's free slots).</param>
    /// <param name="leaseDuration">How long the claims last unless the worker's heartbeat renews them.</param>
    /// <param name="cancellationToken">Cancels the claim.</param>
    /// <returns>The leases taken and when to look again.</returns>
    Task<ClaimBatch> ClaimRunsAsync(string owner, IReadOnlyCollection<WorkflowVersion>? runnable, IReadOnlyCollection<string> exclude, int limit,
        TimeSpan leaseDuration, CancellationToken cancellationToken);

    /// <summary>
    /// The worker's heartbeat: extends, in one write, the lease of every active run <paramref name="owner"/> holds, and
    /// returns them with their epochs and whether a cancel was requested — how an execution learns that its run was
    /// taken over (its epoch moved on, or it is missing) or that a cancel no notification announced was requested.
    /// </summary>
    /// <param name="owner">The worker.</param>
    /// <param name="leaseDuration">How long from now the leases last.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The active runs the worker holds now.</returns>
    Task<IReadOnlyList<HeldRun>> RenewLeasesAsync(string owner, TimeSpan leaseDuration, CancellationToken cancellationToken);

    /// <summary>
    /// Counts the active runs of every workflow version that has any, one row per contract fingerprint: how many, how many
    /// wait for a worker (ready to run, held by no live worker), and when the oldest started. Ordered by name, version,
    /// then fingerprint.
    /// </summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>One row per workflow version with active runs.</returns>
    Task<IReadOnlyList<ActiveWorkflowVersion>> ListActiveVersionsAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Records that worker <paramref name="worker"/> can run <paramref name="runnable"/> until <paramref name="ttl"/> from
    /// now by the store's clock (replacing what it said before); an empty set or a zero <paramref name="ttl"/> withdraws
    /// it. Workers advertise what their build registers, so that a run no live worker can run is told apart from one a
    /// busy worker will take.
    /// </summary>
    /// <param name="worker">The worker's name.</param>
    /// <param name="runnable">The workflow versions its build registers.</param>
    /// <param name="ttl">How long the advertisement holds unless renewed.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes once recorded.</returns>
    Task AdvertiseAsync(string worker, IReadOnlyCollection<WorkflowVersion> runnable, TimeSpan ttl, CancellationToken cancellationToken);

    /// <summary>The earliest <see cref="RunRecord.WakeAt"/> of an unloaded active run, so an idle worker knows when to look.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The time, or <see langword="null"/> when no unloaded run waits for a time.</returns>
    Task<DateTimeOffset?> GetNextWakeAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Unloads a quiescent run atomically: unless a cancel was requested or a signal named in
    /// <paramref name="signalNames"/> is stored and not yet taken, records <paramref name="wakeAt"/> as the run's
    /// <see cref="RunRecord.WakeAt"/> and releases the lease. A signal or a cancel request stored later clears
    /// <see cref="RunRecord.WakeAt"/>, so the run becomes claimable at once.
    /// </summary>
    /// <param name="lease">The writer's lease.</param>
    /// <param name="wakeAt">When the run is due again; <see cref="RunRecord.WakeOnSignalOnly"/> when only a signal wakes it.</param>
    /// <param name="signalNames">The signals its pending waits ask for.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>Whether the run was unloaded, or why not.</returns>
    Task<SuspendOutcome> SuspendAsync(RunLease lease, DateTimeOffset wakeAt, IReadOnlyCollection<string> signalNames, CancellationToken cancellationToken);

    /// <summary>Gives up a lease without ending the run, so that another worker may claim it at once.</summary>
    /// <param name="lease">The lease.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the lease is released.</returns>
    Task ReleaseAsync(RunLease lease, CancellationToken cancellationToken);

    /// <summary>
    /// Records that a body attempt starts: inserts the row or bumps its attempt count and clears its retry time. Never
    /// touches a terminal row, and writes nothing once a cancel was requested for the run — except for a
    /// <see cref="OperationKind.Compensation"/> row, which is how a cancelled run is rolled back (its result then
    /// reports <see cref="JournalWriteResult.CancelRequested"/>).
    /// </summary>
    /// <param name="lease">The writer's lease.</param>
    /// <param name="entry">The row in state <see cref="JournalEntryState.Attempting"/>.</param>
    /// <param name="durability">
    /// Whether the write must be durable when the call returns, or may become durable with the writer's next durable
    /// write (<see cref="JournalDurability.Deferred"/>: one flush to disk per step instead of two; see docs/guarantees.md).
    /// </param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The stored row; fenced; or <see cref="JournalWriteResult.Cancelled"/>.</returns>
    Task<JournalWriteResult> RecordAttemptAsync(RunLease lease, JournalEntry entry, JournalDurability durability, CancellationToken cancellationToken);

    /// <summary>
    /// Records that an attempt failed and another is due at <see cref="JournalEntry.RetryAt"/>: the row stays
    /// <see cref="JournalEntryState.Attempting"/> and keeps the failure as its last <see cref="JournalEntry.Error"/>. Nothing
    /// changes on a terminal row (it is returned as stored). The next <see cref="RecordAttemptAsync"/> clears the retry time.
    /// </summary>
    /// <param name="lease">The writer's lease.</param>
    /// <param name="entry">The row with its last error and retry time.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The stored row, or fenced; reports a requested cancel.</returns>
    Task<JournalWriteResult> ScheduleRetryAsync(RunLease lease, JournalEntry entry, CancellationToken cancellationToken);

    /// <summary>
    /// Records an operation's terminal state, once: when the row is already terminal it is returned unchanged. Written
    /// even when a cancel was requested (the work was done), which the result reports.
    /// </summary>
    /// <param name="lease">The writer's lease.</param>
    /// <param name="entry">The terminal row.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The stored row, or fenced.</returns>
    Task<JournalWriteResult> CompleteEntryAsync(RunLease lease, JournalEntry entry, CancellationToken cancellationToken);

    /// <summary>
    /// Ends a run with <paramref name="outcome"/> and releases it; with a <see cref="RunOutcome.Continuation"/>, creates
    /// that run and moves the untaken signals to it in the same write.
    /// </summary>
    /// <param name="lease">The writer's lease.</param>
    /// <param name="outcome">How it ended.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns><see langword="false"/> when the writer was fenced and nothing changed.</returns>
    /// <exception cref="DurableStoreException">The continuation's id is taken; nothing changed.</exception>
    Task<bool> CompleteRunAsync(RunLease lease, RunOutcome outcome, CancellationToken cancellationToken);

    /// <summary>
    /// Stores a signal for an active or dead-lettered run (a dead letter may be retried, and then takes it), once per (<see cref="SignalRecord.WorkflowId"/>, <see cref="SignalRecord.SignalId"/>),
    /// and wakes the run if it is unloaded (clears <see cref="RunRecord.WakeAt"/>). A store with
    /// <see cref="IWorkflowStoreEvents"/> tells other processes.
    /// </summary>
    /// <param name="signal">The signal.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>Whether it was stored, or why not.</returns>
    Task<SignalSendOutcome> AddSignalAsync(SignalRecord signal, CancellationToken cancellationToken);

    /// <summary>
    /// Records, once, that run <paramref name="workflowId"/> is to be cancelled, and wakes it if it is unloaded (clears
    /// <see cref="RunRecord.WakeAt"/>). A store with <see cref="IWorkflowStoreEvents"/> tells other processes (as
    /// <see cref="IWorkflowStoreEvents.RunSignalled"/>: the run has news).
    /// </summary>
    /// <param name="workflowId">The run.</param>
    /// <param name="reason">Why, kept as <see cref="RunRecord.CancelReason"/>; may be empty.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>Whether it was recorded, or why not.</returns>
    Task<CancelRequestOutcome> RequestCancelAsync(string workflowId, string reason, CancellationToken cancellationToken);

    /// <summary>
    /// Puts dead-lettered run <paramref name="workflowId"/> back to work, in one atomic change: the journal row at its
    /// <see cref="RunRecord.FailedSequence"/>, when that row is <see cref="JournalEntryState.Failed"/> (and, with a
    /// <paramref name="cancelReason"/>, only when it is a compensation), becomes a retry due now with no attempt used —
    /// same sequence, so the same idempotency key; its last error is kept — and the run becomes
    /// <see cref="WorkflowStatus.Running"/> with no owner, error, failed sequence or wake time, ready for any worker.
    /// With a <paramref name="cancelReason"/>, a cancel is also requested, so the worker rolls the run back and ends it
    /// (a cancel requested before the run was parked keeps its reason). A store with <see cref="IWorkflowStoreEvents"/>
    /// tells other processes that a run is ready.
    /// </summary>
    /// <param name="workflowId">The run.</param>
    /// <param name="cancelReason">The reason of the cancel to request, or <see langword="null"/> to retry.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>
    /// The run as it was found: <see langword="null"/> when there is none; when its status was not
    /// <see cref="WorkflowStatus.DeadLettered"/>, nothing changed.
    /// </returns>
    Task<RunRecord?> ReviveDeadLetterAsync(string workflowId, string? cancelReason, CancellationToken cancellationToken);

    /// <summary>
    /// Completes a signal wait with the oldest signal named <paramref name="name"/> that no wait has taken, atomically:
    /// the signal is marked taken by the wait's sequence and the wait's row becomes
    /// <see cref="JournalEntryState.Completed"/> with the signal's payload as its output. Nothing is taken for a wait whose
    /// row is already terminal (it is returned as stored), and nothing once a cancel was requested for the run.
    /// </summary>
    /// <param name="lease">The writer's lease.</param>
    /// <param name="completed">The wait's row as it should be written: completion index and time set.</param>
    /// <param name="name">The signal name the wait asks for.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The stored row; no row (and not fenced) when no signal is waiting; fenced; or <see cref="JournalWriteResult.Cancelled"/>.</returns>
    Task<JournalWriteResult> TakeSignalAsync(RunLease lease, JournalEntry completed, string name, CancellationToken cancellationToken);
}
