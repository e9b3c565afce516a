namespace Durably;

/// <summary>
/// What a generated typed client (<c>OrderWorkflowClient</c>) offers beyond starting runs and sending signals: the
/// runs of its one workflow — a run's details, its result, a cancel, pages of runs and of dead letters, and retrying or
/// discarding a dead letter. Every member acts on runs of <see cref="WorkflowName"/> only: an id that belongs to a run
/// of another workflow is refused with <see cref="WorkflowMismatchException"/>, never acted on.
/// </summary>
/// <typeparam name="TOutput">The run method's result.</typeparam>
/// <remarks>The generator derives each workflow's client from this class; use <see cref="IDurableClient"/> for runs of any workflow.</remarks>
public abstract class WorkflowClient<TOutput>
{
    /// <summary>Creates the client of workflow <paramref name="workflowName"/> over <paramref name="client"/>.</summary>
    /// <param name="client">The Durably client of the application's engine.</param>
    /// <param name="workflowName">The workflow's <c>[DurableWorkflow]</c> name.</param>
    protected WorkflowClient(IDurableClient client, string workflowName)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrWhiteSpace(workflowName);
        Client = client;
        WorkflowName = workflowName;
    }

    /// <summary>The workflow's name: the runs this client acts on.</summary>
    public string WorkflowName { get; }

    /// <summary>The untyped client every call goes through.</summary>
    protected IDurableClient Client { get; }

    /// <summary>A handle to the run with id <paramref name="workflowId"/> (no store read).</summary>
    /// <param name="workflowId">The run's id.</param>
    /// <returns>The handle.</returns>
    public WorkflowHandle<TOutput> GetHandle(string workflowId) => new(Client, workflowId);

    /// <summary>The run's state with its journal: what it finished, what it does now, its result or error.</summary>
    /// <param name="workflowId">The run's id.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The details, or <see langword="null"/> when no run has the id.</returns>
    /// <exception cref="WorkflowMismatchException">The run is of another workflow.</exception>
    public async Task<WorkflowRunDetails?> GetDetailsAsync(string workflowId, CancellationToken cancellationToken = default)
    {
        var details = await Client.GetRunDetailsAsync(workflowId, cancellationToken).ConfigureAwait(false);
        if (details is not null)
        {
            EnsureOwn(details.Run);
        }

        return details;
    }

    /// <summary>How far the run has come: its published status as <typeparamref name="TStatus"/> and its steps' progress (see <see cref="IDurableClient.GetProgressAsync{TStatus}"/>).</summary>
    /// <typeparam name="TStatus">The type the run method publishes with <see cref="Workflow.SetStatus{TStatus}"/>.</typeparam>
    /// <param name="workflowId">The run's id.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The progress, or <see langword="null"/> when no run has the id.</returns>
    /// <exception cref="WorkflowMismatchException">The run is of another workflow.</exception>
    /// <exception cref="ArgumentException">The stored status cannot be read as <typeparamref name="TStatus"/>.</exception>
    public async Task<WorkflowProgress<TStatus>?> GetProgressAsync<TStatus>(string workflowId, CancellationToken cancellationToken = default)
    {
        await RequireOwnAsync(workflowId, cancellationToken, mustExist: false).ConfigureAwait(false);
        return await Client.GetProgressAsync<TStatus>(workflowId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Waits for the run to finish (following continue-as-new to the newest run) and returns its result.</summary>
    /// <param name="workflowId">The run's id.</param>
    /// <param name="cancellationToken">Stops waiting; the run goes on.</param>
    /// <returns>The run's result.</returns>
    /// <exception cref="WorkflowNotFoundException">No run has the id.</exception>
    /// <exception cref="WorkflowMismatchException">The run is of another workflow.</exception>
    /// <exception cref="WorkflowFailedException">The run failed, was dead-lettered or was cancelled.</exception>
    public async Task<TOutput> WaitForResultAsync(string workflowId, CancellationToken cancellationToken = default)
    {
        await RequireOwnAsync(workflowId, cancellationToken).ConfigureAwait(false);
        return await Client.WaitForResultAsync<TOutput>(workflowId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Cancels the run (see <see cref="IDurableClient.CancelAsync"/>): it stops at its next durable operation.</summary>
    /// <param name="workflowId">The run's id.</param>
    /// <param name="reason">Why, kept as the cancelled run's error message.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>Whether the cancel was requested now, before, or the run had already ended.</returns>
    /// <exception cref="WorkflowNotFoundException">No run has the id.</exception>
    /// <exception cref="WorkflowMismatchException">The run is of another workflow.</exception>
    public async Task<CancelResult> CancelAsync(string workflowId, string? reason = null, CancellationToken cancellationToken = default)
    {
        await RequireOwnAsync(workflowId, cancellationToken).ConfigureAwait(false);
        return await Client.CancelAsync(workflowId, reason, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A page of this workflow's runs, newest first, with the query's other filters.</summary>
    /// <param name="query">Status, time, page size and position; its <see cref="WorkflowRunQuery.WorkflowName"/> must be unset or this workflow's.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The page.</returns>
    /// <exception cref="ArgumentException">The query names another workflow, or is invalid.</exception>
    public Task<WorkflowRunPage> ListRunsAsync(WorkflowRunQuery? query = null, CancellationToken cancellationToken = default)
        => Client.ListRunsAsync(Scoped(query), cancellationToken);

    /// <summary>A page of this workflow's dead letters, newest first.</summary>
    /// <param name="query">Time, page size and position; its workflow name must be unset or this workflow's, its status unset or dead-lettered.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The page.</returns>
    /// <exception cref="ArgumentException">The query names another workflow or status, or is invalid.</exception>
    public Task<DeadLetterPage> ListDeadLettersAsync(WorkflowRunQuery? query = null, CancellationToken cancellationToken = default)
        => Client.ListDeadLettersAsync(Scoped(query), cancellationToken);

    /// <summary>The dead letter with id <paramref name="workflowId"/>: why it was parked and which step failed.</summary>
    /// <param name="workflowId">The run's id.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The dead letter, or <see langword="null"/> when no run has the id.</returns>
    /// <exception cref="WorkflowNotDeadLetteredException">The run is not parked.</exception>
    /// <exception cref="WorkflowMismatchException">The run is of another workflow.</exception>
    public async Task<DeadLetter?> GetDeadLetterAsync(string workflowId, CancellationToken cancellationToken = default)
    {
        await RequireOwnAsync(workflowId, cancellationToken, mustExist: false).ConfigureAwait(false);
        return await Client.GetDeadLetterAsync(workflowId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Retries a dead letter: its failed step gets a fresh attempt budget under the same idempotency key, and the run resumes.</summary>
    /// <param name="workflowId">The run's id.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes once the run is revived.</returns>
    /// <exception cref="WorkflowNotFoundException">No run has the id.</exception>
    /// <exception cref="WorkflowNotDeadLetteredException">The run is not parked.</exception>
    /// <exception cref="WorkflowMismatchException">The run is of another workflow.</exception>
    public async Task RetryDeadLetterAsync(string workflowId, CancellationToken cancellationToken = default)
    {
        await RequireOwnAsync(workflowId, cancellationToken).ConfigureAwait(false);
        await Client.RetryDeadLetterAsync(workflowId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Discards a dead letter: its completed steps are compensated and it ends cancelled with <paramref name="reason"/>.</summary>
    /// <param name="workflowId">The run's id.</param>
    /// <param name="reason">Why, kept as the run's error message.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes once the discard is requested.</returns>
    /// <exception cref="WorkflowNotFoundException">No run has the id.</exception>
    /// <exception cref="WorkflowNotDeadLetteredException">The run is not parked.</exception>
    /// <exception cref="WorkflowMismatchException">The run is of another workflow.</exception>
    public async Task DiscardDeadLetterAsync(string workflowId, string? reason = null, CancellationToken cancellationToken = default)
    {
        await RequireOwnAsync(workflowId, cancellationToken).ConfigureAwait(false);
        await Client.DiscardDeadLetterAsync(workflowId, reason, cancellationToken).ConfigureAwait(false);
    }

    private WorkflowRunQuery Scoped(WorkflowRunQuery? query)
    {
        query ??= new WorkflowRunQuery();
        if (query.WorkflowName is { } other && !string.Equals(other, WorkflowName, StringComparison.Ordinal))
        {
            throw new ArgumentException(
                $"The query asks for runs of workflow '{other}', but this is the client of '{WorkflowName}'. Leave WorkflowName unset, or use IDurableClient for other workflows.",
                nameof(query));
        }

        return query with { WorkflowName = WorkflowName };
    }

    private async Task RequireOwnAsync(string workflowId, CancellationToken cancellationToken, bool mustExist = true)
    {
        var run = await Client.GetRunAsync(workflowId, cancellationToken).ConfigureAwait(false);
        if (run is not null)
        {
            EnsureOwn(run);
        }
        else if (mustExist)
        {
            throw new WorkflowNotFoundException(workflowId);
        }
    }

    private void EnsureOwn(WorkflowRunInfo run)
    {
        if (!string.Equals(run.WorkflowName, WorkflowName, StringComparison.Ordinal))
        {
            throw new WorkflowMismatchException(run.WorkflowId, WorkflowName, run.WorkflowName);
        }
    }
}
