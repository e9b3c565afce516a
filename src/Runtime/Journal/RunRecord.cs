namespace Durably.Runtime.Journal;

/// <summary>A run's row: what it runs, where it stands, and who may write to it.</summary>
/// <param name="WorkflowId">The run's id.</param>
/// <param name="WorkflowName">The workflow it runs.</param>
/// <param name="Version">The workflow version it was started on.</param>
/// <param name="InputJson">The run method's input, as JSON.</param>
/// <param name="Status">Where it stands.</param>
/// <param name="OutputJson">The result, as JSON, once completed.</param>
/// <param name="Error">The error, once failed or dead-lettered.</param>
/// <param name="Owner">The worker executing it, or <see langword="null"/>.</param>
/// <param name="Epoch">Incremented by every claim: a writer holding an older epoch is fenced.</param>
/// <param name="LeaseExpiresAt">When the owner's claim lapses unless renewed.</param>
/// <param name="CreatedAt">When it was started.</param>
/// <param name="UpdatedAt">When its row last changed.</param>
/// <param name="WakeAt">
/// When the run is unloaded (quiescent, waiting): the time it becomes due again, or <see cref="WakeOnSignalOnly"/> when
/// only a signal wakes it; <see langword="null"/> while it is loaded or ready to run. A signal or a claim clears it.
/// </param>
/// <param name="Generation">0 for a started run; <c>n</c> for the run that continues generation <c>n - 1</c> as new.</param>
/// <param name="CancelReason">
/// Set (possibly empty) once a cancel was requested: the engine stops the run at its next durable operation.
/// <see langword="null"/> while none was.
/// </param>
/// <param name="FailedSequence">
/// When the run ended because one journaled operation failed — a step whose <see cref="StepFailedException"/> the run
/// method let through, or a compensation — that operation's sequence; else <see langword="null"/>. A dead letter's
/// retry resets this row.
/// </param>
/// <param name="InstanceKey">
/// The single-instance key: among runs of one workflow that are <see cref="WorkflowStatus.Running"/>, at most one
/// holds a given key (every store enforces it).
/// </param>
/// <param name="Fingerprint">
/// The fingerprint of the workflow's contract the run started on (<c>WorkflowDefinition.Fingerprint</c>); null for runs
/// started before fingerprints were recorded.
/// </param>
/// <param name="Seed">
/// A random value recorded when the run is created: <c>Workflow.NewGuid()</c> and <c>Workflow.Random</c> derive from it
/// and the workflow id, so two databases with the same workflow id get different values, and every replay the same
/// ones. Null for a run created before seeds existed (they derive from the id alone, as they always did).
/// </param>
public sealed record RunRecord(
    string WorkflowId,
    string WorkflowName,
    int Version,
    string InputJson,
    WorkflowStatus Status,
    string? OutputJson,
    WorkflowError? Error,
    string? Owner,
    long Epoch,
    DateTimeOffset? LeaseExpiresAt,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? WakeAt = null,
    int Generation = 0,
    string? CancelReason = null,
    long? FailedSequence = null,
    string? InstanceKey = null,
    string? Fingerprint = null,
    string? Seed = null)
{
    /// <summary>Whether a cancel was requested.</summary>
    public bool IsCancelRequested => CancelReason is not null;

    /// <summary>The row of a run that has just started: running, unowned, nothing journaled.</summary>
    /// <param name="workflowId">The run's id.</param>
    /// <param name="workflowName">The workflow it runs.</param>
    /// <param name="version">The workflow version it starts on.</param>
    /// <param name="inputJson">The run method's input, as JSON.</param>
    /// <param name="createdAt">When it starts.</param>
    /// <param name="generation">0, or the generation it continues as new plus one.</param>
    /// <param name="instanceKey">Its single-instance key, if any.</param>
    /// <returns>The row to create.</returns>
    /// <param name="fingerprint">The fingerprint of the workflow's contract it starts on.</param>
    /// <remarks>The row gets a fresh random <see cref="Seed"/>.</remarks>
    public static RunRecord Started(string workflowId, string workflowName, int version, string inputJson, DateTimeOffset createdAt, int generation = 0, string? instanceKey = null, string? fingerprint = null)
        => new(workflowId, workflowName, version, inputJson, WorkflowStatus.Running, null, null, null, 0, null, createdAt, createdAt, Generation: generation, InstanceKey: instanceKey,
            Fingerprint: string.IsNullOrEmpty(fingerprint) ? null : fingerprint, Seed: NewSeed());

    /// <summary>A fresh random <see cref="Seed"/>: 128 bits, as 32 hex digits.</summary>
    /// <returns>The seed.</returns>
    public static string NewSeed() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));

    /// <summary>The <see cref="WakeAt"/> of an unloaded run that only a signal (or a cancel) can wake.</summary>
    public static readonly DateTimeOffset WakeOnSignalOnly = new(9999, 12, 31, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The run that carries on after this one, when it continued as new.</summary>
    public string? ContinuedAs => Status == WorkflowStatus.ContinuedAsNew ? ContinuationId(WorkflowId, Generation) : null;

    /// <summary>The public view of the run.</summary>
    /// <returns>The snapshot.</returns>
    public WorkflowRunInfo ToInfo() => new(WorkflowId, WorkflowName, Version, Status, Error, CreatedAt, UpdatedAt, ContinuedAs, CancelReason, InstanceKey, Fingerprint);

    /// <summary>
    /// The id of the run that continues run <paramref name="workflowId"/> of generation <paramref name="generation"/>:
    /// the original id, <c>~</c>, and the next generation (<c>order-7</c> → <c>order-7~1</c> → <c>order-7~2</c>).
    /// </summary>
    /// <param name="workflowId">The continued run's id.</param>
    /// <param name="generation">Its generation.</param>
    /// <returns>The next run's id.</returns>
    public static string ContinuationId(string workflowId, int generation)
    {
        ArgumentException.ThrowIfNullOrEmpty(workflowId);
        var suffix = "~" + generation.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var original = generation > 0 && workflowId.EndsWith(suffix, StringComparison.Ordinal) ? workflowId[..^suffix.Length] : workflowId;
        return original + "~" + (generation + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <summary>The right to write to a run: held by <see cref="Owner"/> at <see cref="Epoch"/>.</summary>
/// <param name="WorkflowId">The run.</param>
/// <param name="Owner">The worker holding it.</param>
/// <param name="Epoch">The epoch the claim produced.</param>
/// <param name="TakenFrom">
/// The worker that still held the run when it was claimed — its lease had lapsed, or it restarted under the same name:
/// the run is recovered from a crashed (or stalled) worker. <see langword="null"/> when the run was free.
/// </param>
public sealed record RunLease(string WorkflowId, string Owner, long Epoch, string? TakenFrom = null);

/// <summary>A run and its whole journal, read at once.</summary>
/// <param name="Run">The run's row.</param>
/// <param name="Journal">Its journal rows, by sequence number.</param>
public sealed record RunSnapshot(RunRecord Run, IReadOnlyList<JournalEntry> Journal);

/// <summary>How a run ended.</summary>
/// <param name="Status">Completed, Failed, DeadLettered, ContinuedAsNew or Cancelled.</param>
/// <param name="OutputJson">The result, when completed.</param>
/// <param name="Error">The error, otherwise.</param>
/// <param name="Continuation">
/// With <see cref="WorkflowStatus.ContinuedAsNew"/>: the run that carries on, created in the same write, which also
/// hands it the signals no wait of the ended run took.
/// </param>
/// <param name="FailedSequence">The journaled operation whose failure ended the run, when one did (<see cref="RunRecord.FailedSequence"/>).</param>
public sealed record RunOutcome(WorkflowStatus Status, string? OutputJson, WorkflowError? Error, RunRecord? Continuation = null, long? FailedSequence = null);

/// <summary>Which runs <see cref="IWorkflowStore.ListRunsAsync"/> returns.</summary>
/// <param name="WorkflowName">Only runs of this workflow, when set.</param>
/// <param name="Status">Only runs with this status, when set.</param>
/// <param name="CreatedFrom">Only runs created at or after this time, when set.</param>
/// <param name="CreatedBefore">Only runs created before this time, when set.</param>
/// <param name="After">
/// The cursor: only runs that come after this one in the order (older, or as old with a smaller id); the first page
/// when <see langword="null"/>.
/// </param>
/// <param name="Limit">The most rows to return.</param>
public sealed record RunListQuery(
    string? WorkflowName,
    WorkflowStatus? Status,
    DateTimeOffset? CreatedFrom,
    DateTimeOffset? CreatedBefore,
    (DateTimeOffset CreatedAt, string WorkflowId)? After,
    int Limit)
{
    /// <summary>Only runs started with this instance key, when set.</summary>
    public string? InstanceKey { get; init; }

    /// <summary>Only runs of this workflow version, when set (with <see cref="WorkflowName"/>).</summary>
    public int? Version { get; init; }
}

/// <summary>What became of a request to cancel a run.</summary>
public enum CancelRequestOutcome
{
    /// <summary>Recorded: the run stops at its next durable operation (an unloaded run is woken for it).</summary>
    Requested = 0,

    /// <summary>A cancel was requested before; nothing changed.</summary>
    AlreadyRequested = 1,

    /// <summary>No run has that id.</summary>
    RunNotFound = 2,

    /// <summary>The run has ended; nothing changed.</summary>
    RunFinished = 3,
}

/// <summary>What became of an attempt to unload a run.</summary>
public enum SuspendOutcome
{
    /// <summary>The run is unloaded: released, and due again at its wake time or when a signal arrives.</summary>
    Suspended = 0,

    /// <summary>A signal one of its waits asks for is already stored: nothing changed, the run should take it.</summary>
    SignalWaiting = 1,

    /// <summary>The writer no longer holds the run; nothing changed.</summary>
    Fenced = 2,

    /// <summary>A cancel was requested for the run: nothing changed, the engine is to stop it.</summary>
    CancelRequested = 3,

    /// <summary>A child run that one of its waits awaits has ended (<see cref="IWorkflowStoreChildren"/>): nothing changed, the run should take its result.</summary>
    ChildEnded = 4,
}

/// <summary>The result of a journal write.</summary>
/// <param name="Entry">The row as stored: the written one, or the terminal row that was already there.</param>
/// <param name="Fenced">The writer no longer owns the run (or the run is no longer active); nothing was written.</param>
/// <param name="CancelRequested">
/// A cancel was requested for the run (<see cref="RunRecord.IsCancelRequested"/>): the engine is to stop it. A write that
/// starts new work (<see cref="IWorkflowStore.RecordAttemptAsync"/>, <see cref="IWorkflowStore.TakeSignalAsync"/>) then
/// wrote nothing; <see cref="IWorkflowStore.CompleteEntryAsync"/> still records the outcome of work already done.
/// </param>
public sealed record JournalWriteResult(JournalEntry? Entry, bool Fenced, bool CancelRequested = false)
{
    /// <summary>A write refused because the writer's lease is stale or the run has ended.</summary>
    public static readonly JournalWriteResult FencedOut = new(null, true);

    /// <summary>A write of new work refused because a cancel was requested for the run.</summary>
    public static readonly JournalWriteResult Cancelled = new(null, false, true);
}

/// <summary>A run a worker holds, as its heartbeat found it (<see cref="IWorkflowStore.RenewLeasesAsync"/>).</summary>
/// <param name="WorkflowId">The run.</param>
/// <param name="Epoch">Its current epoch: a lease of another epoch is no longer current.</param>
/// <param name="CancelRequested">A cancel was requested for the run: the engine is to stop it.</param>
public sealed record HeldRun(string WorkflowId, long Epoch, bool CancelRequested);

/// <summary>What <see cref="IWorkflowStore.ClaimRunsAsync"/> claimed, and when the next run may become claimable.</summary>
/// <param name="Claimed">The leases taken, oldest run first; <see cref="RunLease.TakenFrom"/> set for a run recovered from another holder.</param>
/// <param name="NextClaimableIn">
/// How long until a run the worker could not claim now may become claimable — an unloaded run falls due, or another
/// worker's lease expires — by the store's clock; <see langword="null"/> when nothing is expected.
/// </param>
/// <param name="Loaded">
/// The claimed runs with their journals, by workflow id, read after the claim took them (so that no other writer can
/// change them any more) in the same round trip; <see langword="null"/> when the store does not read them with the
/// claim, and the engine reads each run itself.
/// </param>
public sealed record ClaimBatch(IReadOnlyList<RunLease> Claimed, TimeSpan? NextClaimableIn, IReadOnlyDictionary<string, RunSnapshot>? Loaded = null)
{
    /// <summary>Nothing claimed, nothing expected.</summary>
    public static readonly ClaimBatch Empty = new([], null);
}

/// <summary>How soon a journal write must reach the disk.</summary>
public enum JournalDurability
{
    /// <summary>Durable when the call returns: a crash of the process or of the machine keeps it.</summary>
    Durable = 0,

    /// <summary>
    /// Visible and fenced like any write when the call returns, and kept if the process crashes; durable against a crash
    /// of the machine (power loss) once the writer's next durable write returns, which flushes it with its own — until
    /// then such a crash may lose it. Used for the attempting row of a step that has no compensation.
    /// </summary>
    Deferred = 1,

    /// <summary>
    /// <see cref="Deferred"/>, for an attempting row sent as its step's body starts rather than before it: the body is
    /// running already, so the row is written even when a cancel was requested since (it is still fenced) — a body that
    /// ran is never missing from the journal. Used for the attempting rows of a step without a compensation after the
    /// first live attempt of an execution; the step's outcome is written without waiting for it and supersedes it.
    /// </summary>
    Pipelined = 2,
}
