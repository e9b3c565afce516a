using Durably.Infrastructure;

namespace Durably;

/// <summary>
/// Starts runs and reads their state. Generated typed clients (<c>OrderFulfillmentClient</c>) wrap it; resolve it
/// from DI after <c>services.AddDurably()</c>.
/// </summary>
public interface IDurableClient
{
    /// <summary>
    /// Starts a run, or returns the existing one: the workflow id is the idempotency key of the start. A start that
    /// reuses an id with another workflow or another input throws <see cref="WorkflowConflictException"/>.
    /// </summary>
    /// <typeparam name="TWorkflow">The workflow class.</typeparam>
    /// <typeparam name="TInput">The run method's input.</typeparam>
    /// <typeparam name="TOutput">The run method's result.</typeparam>
    /// <param name="workflow">The workflow's generated definition.</param>
    /// <param name="input">The run method's input.</param>
    /// <param name="workflowId">The run's id; a new GUID when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the start request, not the run.</param>
    /// <returns>A handle to the run.</returns>
    Task<WorkflowHandle<TOutput>> StartAsync<TWorkflow, TInput, TOutput>(
        WorkflowDefinition<TWorkflow, TInput, TOutput> workflow, TInput input, string? workflowId = null, CancellationToken cancellationToken = default)
        where TWorkflow : class;

    /// <summary>
    /// Starts a run with <paramref name="options"/>, or returns the existing one: as the other overload, and with an
    /// <see cref="WorkflowStartOptions.InstanceKey"/>, at most one active run of the workflow holds the key — a start
    /// while one does joins it (the handle names that run) or is refused, as <see cref="WorkflowStartOptions.IfActive"/>
    /// says. Checked atomically by the store, so concurrent starts on any number of workers yield one run.
    /// </summary>
    /// <typeparam name="TWorkflow">The workflow class.</typeparam>
    /// <typeparam name="TInput">The run method's input.</typeparam>
    /// <typeparam name="TOutput">The run method's result.</typeparam>
    /// <param name="workflow">The workflow's generated definition.</param>
    /// <param name="input">The run method's input.</param>
    /// <param name="options">The run's id, instance key and what to do when the key is held.</param>
    /// <param name="cancellationToken">Cancels the start request, not the run.</param>
    /// <returns>A handle to the run started, or to the active run joined.</returns>
    /// <exception cref="WorkflowInstanceActiveException">The key is held and <see cref="WorkflowStartOptions.IfActive"/> is <see cref="ActiveInstanceBehavior.Refuse"/>.</exception>
    /// <exception cref="WorkflowConflictException">The id is used by another workflow's run or by a run with another input.</exception>
    /// <exception cref="ArgumentException">The id or key is malformed, or the behaviour undefined.</exception>
    Task<WorkflowHandle<TOutput>> StartAsync<TWorkflow, TInput, TOutput>(
        WorkflowDefinition<TWorkflow, TInput, TOutput> workflow, TInput input, WorkflowStartOptions options, CancellationToken cancellationToken = default)
        where TWorkflow : class;

    /// <summary>Reads a run's state.</summary>
    /// <param name="workflowId">The run's id.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The state, or <see langword="null"/> when no run has that id.</returns>
    Task<WorkflowRunInfo?> GetRunAsync(string workflowId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Waits until a run has finished and returns its result, following a run that continued as new. Waiting does not
    /// poll in a tight loop: it wakes when this process finishes the run or, on a store that announces results
    /// (PostgreSQL), when any process does; otherwise it reads the run with a backoff up to the engine's poll interval.
    /// </summary>
    /// <typeparam name="TOutput">The run method's result.</typeparam>
    /// <param name="workflowId">The run's id.</param>
    /// <param name="cancellationToken">Stops waiting; the run goes on.</param>
    /// <returns>The run's result.</returns>
    /// <exception cref="WorkflowFailedException">The run failed, was dead-lettered or was cancelled (see its <see cref="WorkflowFailedException.Status"/>).</exception>
    /// <exception cref="WorkflowNotFoundException">No run has that id.</exception>
    Task<TOutput> WaitForResultAsync<TOutput>(string workflowId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sends signal <paramref name="signalName"/> to run <paramref name="workflowId"/>. It is kept until a wait for that
    /// name takes it (a signal sent before the run waits is not lost); each signal goes to exactly one wait.
    /// </summary>
    /// <typeparam name="TPayload">The payload's type, as the wait expects it.</typeparam>
    /// <param name="workflowId">The run.</param>
    /// <param name="signalName">The signal's name.</param>
    /// <param name="payload">The payload, serialised as JSON.</param>
    /// <param name="signalId">
    /// The sender's id for this signal: a resend with the same id is ignored (so a retried send is safe). A fresh id
    /// when null.
    /// </param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns><see langword="true"/> when stored; <see langword="false"/> when a signal with this id was stored before.</returns>
    /// <exception cref="WorkflowNotFoundException">No run has that id.</exception>
    /// <exception cref="WorkflowNotRunningException">The run has ended; the signal was not stored.</exception>
    /// <exception cref="ArgumentException">
    /// The workflow id, signal name or signal id is malformed, or — when the run's workflow is registered in this
    /// process — the payload cannot be read as the type the workflow declares for the signal; nothing was stored.
    /// </exception>
    /// <remarks>
    /// A signal to a dead-lettered run is stored and kept: the run takes it if it is retried (it is dropped with the
    /// run if the dead letter is discarded). A payload that cannot be serialised or is larger than the engine's limit is refused with an exception naming its size and the limit.</remarks>
    Task<bool> SignalAsync<TPayload>(string workflowId, string signalName, TPayload payload, string? signalId = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Cancels run <paramref name="workflowId"/>, in any state: the request is stored durably and wakes the run if it
    /// is waiting or unloaded; the engine (not the run method) stops it at its next durable operation, cancels the
    /// <see cref="CancellationToken"/> of any step in flight (a step body that ignores it keeps running and its late
    /// result is discarded), and ends it <see cref="WorkflowStatus.Cancelled"/>. A run that continued as new is
    /// followed to the newest run. Cancelling an ended run changes nothing and says so.
    /// </summary>
    /// <param name="workflowId">The run.</param>
    /// <param name="reason">Why, kept as the cancelled run's error message; at most <c>MaxCancelReasonLength</c> characters.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>Whether the cancel was requested now, before, or the run had already ended.</returns>
    /// <exception cref="WorkflowNotFoundException">No run has that id.</exception>
    /// <exception cref="ArgumentException">The workflow id is malformed or the reason too long.</exception>
    Task<CancelResult> CancelAsync(string workflowId, string? reason = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads a run with its journal: status, result or error, every operation without payloads, the operations in
    /// progress (<see cref="WorkflowRunDetails.CurrentOperations"/>) and a summary.
    /// </summary>
    /// <param name="workflowId">The run's id.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The details, or <see langword="null"/> when no run has that id.</returns>
    Task<WorkflowRunDetails?> GetRunDetailsAsync(string workflowId, CancellationToken cancellationToken = default);

    /// <summary>
    /// How far the run has come: its published status (<see cref="Workflow.SetStatus{TStatus}"/>) read as
    /// <typeparamref name="TStatus"/>, and the progress its steps in progress reported — of the newest run, when it
    /// continued as new (<see cref="WorkflowProgress{TStatus}.WorkflowId"/> says which).
    /// </summary>
    /// <typeparam name="TStatus">The type the run method publishes its status as.</typeparam>
    /// <param name="workflowId">The run's id.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The progress, or <see langword="null"/> when no run has the id.</returns>
    /// <exception cref="ArgumentException">The stored status cannot be read as <typeparamref name="TStatus"/>; the message names both.</exception>
    Task<WorkflowProgress<TStatus>?> GetProgressAsync<TStatus>(string workflowId, CancellationToken cancellationToken = default);

    /// <summary>Lists runs, newest first, filtered by workflow, status and start time, one page at a time.</summary>
    /// <param name="query">Filters, page size and the token of the page to read; the first 100 runs when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>A page, with the token of the next one.</returns>
    /// <exception cref="ArgumentException">The page size is out of range, the token is not one this API returned, or the time range is empty.</exception>
    Task<WorkflowRunPage> ListRunsAsync(WorkflowRunQuery? query = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Lists dead-lettered runs, newest first, each with why it was parked and the operation that failed. Filters and
    /// paging as for <see cref="ListRunsAsync"/>; a run retried or discarded while the page is read is left out of it.
    /// </summary>
    /// <param name="query">Filters, page size and page token; <see cref="WorkflowRunQuery.Status"/> must be unset or <see cref="WorkflowStatus.DeadLettered"/>.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>A page, with the token of the next one.</returns>
    /// <exception cref="ArgumentException">The query asks for another status, or is invalid as for <see cref="ListRunsAsync"/>.</exception>
    Task<DeadLetterPage> ListDeadLettersAsync(WorkflowRunQuery? query = null, CancellationToken cancellationToken = default);

    /// <summary>Reads why run <paramref name="workflowId"/> was parked: the reason, the failed step or compensation, its attempts and error.</summary>
    /// <param name="workflowId">The run's id.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The dead letter, or <see langword="null"/> when no run has that id or the run is not dead-lettered.</returns>
    /// <exception cref="ArgumentException">The workflow id is malformed.</exception>
    Task<DeadLetter?> GetDeadLetterAsync(string workflowId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Retries dead-lettered run <paramref name="workflowId"/>, typically after fixing what made it fail: the step (or
    /// compensation) whose failure parked it gets a fresh attempt budget and runs again with the same idempotency key,
    /// and the run resumes on any worker from its journal — completed steps do not run again. Its previous error stays on
    /// the operation's journal row until the next attempt ends.
    /// </summary>
    /// <param name="workflowId">The run.</param>
    /// <param name="cancellationToken">Cancels the request, not the run.</param>
    /// <returns>A task that completes once the retry is recorded (the run resumes on a worker).</returns>
    /// <exception cref="WorkflowNotFoundException">No run has that id.</exception>
    /// <exception cref="WorkflowNotDeadLetteredException">The run is not dead-lettered (another operator may have retried it); nothing changed.</exception>
    /// <exception cref="WorkflowInstanceActiveException">The run has an instance key that another active run holds now; nothing changed.</exception>
    /// <exception cref="ArgumentException">The workflow id is malformed.</exception>
    Task RetryDeadLetterAsync(string workflowId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Discards dead-lettered run <paramref name="workflowId"/>: a worker compensates its completed steps (as for a
    /// cancel; a compensation whose failure parked the run gets a fresh attempt budget) and ends it
    /// <see cref="WorkflowStatus.Cancelled"/> with <paramref name="reason"/>. The run and its journal are kept. Should a
    /// compensation keep failing, the run is parked again.
    /// </summary>
    /// <param name="workflowId">The run.</param>
    /// <param name="reason">Why, kept as the run's error message; at most <c>DurableOptions.MaxCancelReasonLength</c> characters.</param>
    /// <param name="cancellationToken">Cancels the request, not the rollback.</param>
    /// <returns>A task that completes once the discard is recorded (the rollback follows on a worker).</returns>
    /// <exception cref="WorkflowNotFoundException">No run has that id.</exception>
    /// <exception cref="WorkflowNotDeadLetteredException">The run is not dead-lettered; nothing changed.</exception>
    /// <exception cref="WorkflowInstanceActiveException">The run has an instance key that another active run holds now; nothing changed.</exception>
    /// <exception cref="ArgumentException">The workflow id is malformed, or the reason too long or holds U+0000.</exception>
    Task DiscardDeadLetterAsync(string workflowId, string? reason = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// The drain view: for every workflow version with runs in flight, per contract fingerprint, how many are active, how
    /// many wait for a worker, and when the oldest started — so a team knows when an old version's class can be deleted.
    /// </summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>One row per (name, version, fingerprint) with active runs, by name and version.</returns>
    Task<IReadOnlyList<WorkflowVersionInfo>> ListWorkflowVersionsAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Exports run <paramref name="workflowId"/> and its journal as JSON: check it into a test project and replay it
    /// against every build (<c>Durably.Runtime.Hosting.WorkflowReplayer.ReplayAsync</c>), so CI proves each change compatible with the runs
    /// it recorded.
    /// </summary>
    /// <param name="workflowId">The run.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The export, indented JSON.</returns>
    /// <exception cref="WorkflowNotFoundException">No run has the id.</exception>
    Task<string> ExportRunAsync(string workflowId, CancellationToken cancellationToken = default);
}
