using System.Diagnostics;
using Durably.Runtime.Engine;
using Durably.Runtime.Journal;
using Durably.Runtime.Replay.Operations;

namespace Durably.Runtime.Replay;

/// <summary>
/// What an operation may use of the execution that scheduled it — the seam between the event loop and the operations,
/// so that operations need none of the execution's type parameters and none of its private state.
/// </summary>
internal interface IOperationHost
{
    /// <summary>The run's id.</summary>
    string WorkflowId { get; }

    /// <summary>The workflow's name, for telemetry.</summary>
    string WorkflowName { get; }

    /// <summary>"run 'x' of workflow 'y' v1": how messages name the run.</summary>
    string RunName { get; }

    /// <summary>What every execution of the engine shares.</summary>
    EngineContext Engine { get; }

    /// <summary>The execution's claim on the run: every journal write is fenced by it.</summary>
    RunLease Lease { get; }

    /// <summary>Where the run's steps report progress (<see cref="StepContext.ReportProgress"/>).</summary>
    ProgressWriter Progress { get; }

    /// <summary>The run's <c>durably.run</c> activity, the parent of step attempts' activities.</summary>
    ActivityContext Activity { get; }

    /// <summary>Cancelled when the execution stops: operations end their live part and record nothing more.</summary>
    CancellationToken Stopping { get; }

    /// <summary>Cancelled when the run starts rolling back: backoffs end, no new attempt starts.</summary>
    CancellationToken Settling { get; }

    /// <summary>Cancelled when a cancelled run rolls back: the bodies in flight see their token fire.</summary>
    CancellationToken BodiesCancelled { get; }

    /// <summary>Whether the run is rolling back (it fails under the compensate rule, or was cancelled).</summary>
    bool IsRollingBack { get; }

    /// <summary>Hands an event to the loop (from any thread).</summary>
    void Post(ExecutionEvent executionEvent);

    /// <summary>The run is to be cancelled: the loop stops it before anything else (from any thread).</summary>
    void RequestStop();

    /// <summary>The run cannot go on: the loop ends it with <paramref name="status"/> and the error (the first one set wins).</summary>
    void SetFatal(Exception exception, WorkflowStatus status);

    /// <summary>
    /// Writes an operation's attempting row. Returns the stored row to go on with, or null when there is nothing more to
    /// do live: the writer was fenced or the run is being cancelled (the loop is told), or the row is terminal already
    /// (the loop gets it to deliver).
    /// </summary>
    Task<JournalEntry?> RecordAttemptAsync(Operation operation, JournalEntry draft, CancellationToken token);

    /// <summary>
    /// What <see cref="RecordAttemptAsync"/> does with a written attempting row: the stored row to go on with, or null
    /// (the loop told) when the writer was fenced, the run is being cancelled, or the row is terminal already.
    /// </summary>
    JournalEntry? AcceptAttempt(Operation operation, JournalWriteResult attempt);

    /// <summary>
    /// Whether an attempting row with deferred durability may be sent without waiting for it: once this execution has
    /// waited for one live attempting row (so a body that kills the process is counted at least once per execution).
    /// </summary>
    bool MayPipelineAttempts { get; }

    /// <summary>
    /// Registers an attempting row sent without being waited for: the execution waits for every such write before it
    /// lets the run go (release, unload, end), so that no row of this execution arrives after it, fenced out.
    /// </summary>
    void TrackAttempt(Task<JournalWriteResult> attempt);
}
