using System.Text.Json;
using Durably.Runtime.Client;
using Durably.Runtime.Journal;

namespace Durably.Runtime;

/// <summary>
/// What an operator — a person at the dashboard or the <c>durably</c> CLI — reads and does: counts for an overview, the
/// workers, and the actions on a run (cancel, retry or discard a dead letter, send a signal), each done through
/// <see cref="IDurableClient"/> and recorded in the store with who did it and why (<see cref="ListActionsAsync"/>).
/// Registered by <c>services.AddDurably()</c>; a tool with no workflows of its own can build one over any store.
/// </summary>
public sealed partial class DurableOperator
{
    /// <summary>The longest reason an operator may give, in characters.</summary>
    public const int MaxReasonLength = DurableOptions.MaxCancelReasonLength;

    /// <summary>How many runs <see cref="PurgeAsync"/> deletes per batch, each batch its own transaction.</summary>
    public const int PurgeBatchSize = 500;

    /// <summary>How many of a run's recorded actions <see cref="ListActionsAsync"/> returns, newest first.</summary>
    public const int MaxActionsListed = 100;

    private readonly DurableEngine _engine;
    private readonly DurableClient _client;

    /// <summary>Creates the operations over <paramref name="engine"/>'s store and clock.</summary>
    /// <param name="engine">The engine whose store the operator acts on; it need not run any workflow.</param>
    public DurableOperator(DurableEngine engine)
    {
        ArgumentNullException.ThrowIfNull(engine);
        _engine = engine;
        _client = new DurableClient(engine);
    }

    /// <summary>The client the actions go through, for the reads an operator needs (runs, details, dead letters, versions).</summary>
    public IDurableClient Client => _client;

    /// <summary>Whether the store counts runs and lists workers (<see cref="IWorkflowStoreStatistics"/>); the built-in stores do.</summary>
    public bool HasStatistics => _engine.Context.Store is IWorkflowStoreStatistics;

    /// <summary>Counts runs by workflow and status: all of them, or those that ended at or after <paramref name="finishedSince"/>.</summary>
    /// <param name="finishedSince">The window's start; null for all runs.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>One row per workflow and status that has runs.</returns>
    /// <exception cref="NotSupportedException">The store does not count runs (<see cref="HasStatistics"/> is false).</exception>
    public Task<IReadOnlyList<RunCount>> CountRunsAsync(DateTimeOffset? finishedSince, CancellationToken cancellationToken = default)
        => Statistics().CountRunsAsync(finishedSince, cancellationToken);

    /// <summary>The workers the store knows of, with what they run, their lease and last heartbeat and the runs they hold.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>One row per worker, by name.</returns>
    /// <exception cref="NotSupportedException">The store does not list workers (<see cref="HasStatistics"/> is false).</exception>
    public Task<IReadOnlyList<WorkerRecord>> ListWorkersAsync(CancellationToken cancellationToken = default)
        => Statistics().ListWorkersAsync(cancellationToken);

    /// <summary>The newest <see cref="MaxActionsListed"/> actions operators took on run <paramref name="workflowId"/>, newest first.</summary>
    /// <param name="workflowId">The run.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The recorded actions; empty when there are none.</returns>
    /// <exception cref="ArgumentException">The workflow id is malformed.</exception>
    public Task<IReadOnlyList<OperatorActionRecord>> ListActionsAsync(string workflowId, CancellationToken cancellationToken = default)
    {
        ClientArguments.ValidateId(workflowId, "workflow id", nameof(workflowId));
        return ActionLog().ListOperatorActionsAsync(workflowId, MaxActionsListed, cancellationToken);
    }

    /// <summary>Cancels run <paramref name="workflowId"/> (see <see cref="IDurableClient.CancelAsync"/>), with the reason kept on the run, and records who asked.</summary>
    /// <param name="workflowId">The run.</param>
    /// <param name="operatorReason">Who cancels it and why.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>Whether the cancel was requested now (only then is it recorded), before, or the run had ended.</returns>
    /// <exception cref="WorkflowNotFoundException">No run has that id.</exception>
    /// <exception cref="ArgumentException">The id is malformed, or the actor or reason empty, too long or unstorable.</exception>
    public async Task<CancelResult> CancelAsync(string workflowId, OperatorReason operatorReason, CancellationToken cancellationToken = default)
    {
        var log = Prepare(workflowId, operatorReason);
        var result = await _client.CancelAsync(workflowId, operatorReason.Reason, cancellationToken).ConfigureAwait(false);
        if (result == CancelResult.Requested)
        {
            await RecordAsync(log, workflowId, "cancel", operatorReason, cancellationToken).ConfigureAwait(false);
        }

        return result;
    }

    /// <summary>Retries dead-lettered run <paramref name="workflowId"/> (see <see cref="IDurableClient.RetryDeadLetterAsync"/>) and records who did it and why.</summary>
    /// <param name="workflowId">The run.</param>
    /// <param name="operatorReason">Who retries it and why.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes once the retry and its record are stored.</returns>
    /// <exception cref="WorkflowNotFoundException">No run has that id.</exception>
    /// <exception cref="WorkflowNotDeadLetteredException">The run is not dead-lettered; nothing changed or was recorded.</exception>
    /// <exception cref="ArgumentException">The id is malformed, or the actor or reason empty, too long or unstorable.</exception>
    public async Task RetryDeadLetterAsync(string workflowId, OperatorReason operatorReason, CancellationToken cancellationToken = default)
    {
        var log = Prepare(workflowId, operatorReason);
        await _client.RetryDeadLetterAsync(workflowId, cancellationToken).ConfigureAwait(false);
        await RecordAsync(log, workflowId, "retry", operatorReason, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Discards dead-lettered run <paramref name="workflowId"/> (see <see cref="IDurableClient.DiscardDeadLetterAsync"/>), the reason kept on the run, and records who did it.</summary>
    /// <param name="workflowId">The run.</param>
    /// <param name="operatorReason">Who discards it and why.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes once the discard and its record are stored.</returns>
    /// <exception cref="WorkflowNotFoundException">No run has that id.</exception>
    /// <exception cref="WorkflowNotDeadLetteredException">The run is not dead-lettered; nothing changed or was recorded.</exception>
    /// <exception cref="ArgumentException">The id is malformed, or the actor or reason empty, too long or unstorable.</exception>
    public async Task DiscardDeadLetterAsync(string workflowId, OperatorReason operatorReason, CancellationToken cancellationToken = default)
    {
        var log = Prepare(workflowId, operatorReason);
        await _client.DiscardDeadLetterAsync(workflowId, operatorReason.Reason, cancellationToken).ConfigureAwait(false);
        await RecordAsync(log, workflowId, "discard", operatorReason, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends signal <paramref name="signalName"/> with a JSON payload to run <paramref name="workflowId"/> (see
    /// <see cref="IDurableClient.SignalAsync{TPayload}"/>) and records who sent it and why.
    /// </summary>
    /// <param name="workflowId">The run.</param>
    /// <param name="signalName">The signal's name.</param>
    /// <param name="payloadJson">The payload as JSON text, such as <c>{"approved":true}</c> or <c>null</c>.</param>
    /// <param name="operatorReason">Who sends it and why.</param>
    /// <param name="signalId">The signal's id, so that a resend is ignored; a fresh id when null.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns><see langword="true"/> when stored (and recorded); <see langword="false"/> when a signal with this id was stored before.</returns>
    /// <exception cref="WorkflowNotFoundException">No run has that id.</exception>
    /// <exception cref="WorkflowNotRunningException">The run has ended; nothing was stored.</exception>
    /// <exception cref="ArgumentException">The payload is not JSON, or the id, name, actor or reason is malformed.</exception>
    public async Task<bool> SignalAsync(string workflowId, string signalName, string payloadJson, OperatorReason operatorReason, string? signalId = null, CancellationToken cancellationToken = default)
    {
        var log = Prepare(workflowId, operatorReason);
        ArgumentNullException.ThrowIfNull(payloadJson);
        JsonElement payload;
        try
        {
            using var document = JsonDocument.Parse(payloadJson);
            payload = document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            var shown = payloadJson.Length > 64 ? payloadJson[..64] + "…" : payloadJson;
            throw new ArgumentException($"The payload of signal '{signalName}' is not JSON ({ex.Message}): '{shown}' ({payloadJson.Length} characters).", nameof(payloadJson), ex);
        }

        var stored = await _client.SignalAsync(workflowId, signalName, payload, signalId, cancellationToken).ConfigureAwait(false);
        if (stored)
        {
            await RecordAsync(log, workflowId, "signal:" + signalName, operatorReason, cancellationToken).ConfigureAwait(false);
        }

        return stored;
    }

    /// <summary>
    /// Deletes for good the runs that ended more than <paramref name="olderThan"/> ago — completed, failed, cancelled or
    /// continued as new, with their journals, signals and recorded actions; never a running run or a dead letter — in
    /// batches of <see cref="PurgeBatchSize"/>, oldest first, reporting the running total after each batch.
    /// </summary>
    /// <param name="olderThan">How long ago a run must have ended; zero purges every ended run.</param>
    /// <param name="workflowName">Only runs of this workflow, when set.</param>
    /// <param name="progress">Told the number purged so far after each batch.</param>
    /// <param name="cancellationToken">Stops between batches; the batches done stay done.</param>
    /// <returns>How many runs were deleted.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="olderThan"/> is negative.</exception>
    /// <exception cref="ArgumentException">The workflow name is malformed.</exception>
    /// <exception cref="NotSupportedException">The store does not purge (<see cref="IWorkflowStoreRetention"/>).</exception>
    public async Task<long> PurgeAsync(TimeSpan olderThan, string? workflowName = null, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        if (olderThan < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(olderThan), olderThan, $"A purge deletes runs that ended some time ago; olderThan must be zero or more, not {olderThan}.");
        }

        if (workflowName is not null)
        {
            ClientArguments.ValidateId(workflowName, "workflow name", nameof(workflowName));
        }

        var retention = _engine.Context.Store as IWorkflowStoreRetention
            ?? throw new NotSupportedException($"The store {_engine.Context.Store.GetType().FullName} does not implement IWorkflowStoreRetention, so it cannot purge runs.");
        long purged = 0;
        await retention.PurgeInBatchesAsync(new RunPurgeQuery(_engine.Context.UtcNow() - olderThan, workflowName, PurgeBatchSize), TimeSpan.Zero, _engine.Context.Time,
            batch => progress?.Report(purged += batch), cancellationToken).ConfigureAwait(false);
        return purged;
    }

    private IWorkflowStoreStatistics Statistics()
        => _engine.Context.Store as IWorkflowStoreStatistics
            ?? throw new NotSupportedException($"The store {_engine.Context.Store.GetType().FullName} does not implement IWorkflowStoreStatistics, so it cannot count runs or list workers.");

    private IOperatorActionLog ActionLog()
        => _engine.Context.Store as IOperatorActionLog
            ?? throw new NotSupportedException(
                $"The store {_engine.Context.Store.GetType().FullName} does not implement IOperatorActionLog, so operator actions could not be recorded; none is taken unrecorded.");

    /// <summary>Checks the arguments and the store before anything changes, so a refused action leaves no trace.</summary>
    private IOperatorActionLog Prepare(string workflowId, OperatorReason operatorReason)
    {
        ClientArguments.ValidateId(workflowId, "workflow id", nameof(workflowId));
        ArgumentNullException.ThrowIfNull(operatorReason);
        ClientArguments.ValidateId(operatorReason.Actor, "operator's name", nameof(operatorReason));
        if (string.IsNullOrWhiteSpace(operatorReason.Reason))
        {
            throw new ArgumentException($"An operator action on run '{workflowId}' needs a reason; it is {(operatorReason.Reason is null ? "missing" : "blank")}.", nameof(operatorReason));
        }

        // Its length (at most MaxReasonLength) and its characters, as for a cancel's reason.
        ClientArguments.ValidateReason(workflowId, operatorReason.Reason, "operator's");
        return ActionLog();
    }

    private async Task RecordAsync(IOperatorActionLog log, string workflowId, string action, OperatorReason operatorReason, CancellationToken cancellationToken)
    {
        try
        {
            await log.RecordOperatorActionAsync(
                new OperatorActionRecord(workflowId, action, operatorReason.Actor, operatorReason.Reason, _engine.Context.UtcNow()), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new DurableStoreException(
                $"The {action} of run '{workflowId}' by '{operatorReason.Actor}' took effect, but recording it failed: {ex.Message}", ex);
        }
    }
}

/// <summary>Who takes an operator action and why; both are recorded with it.</summary>
/// <param name="Actor">Who: the signed-in user's name, or the operating-system user of a CLI; 1 to 256 characters.</param>
/// <param name="Reason">Why, in the operator's words; required, at most <see cref="DurableOperator.MaxReasonLength"/> characters.</param>
public sealed record OperatorReason(string Actor, string Reason);
