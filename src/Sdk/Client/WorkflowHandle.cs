namespace Durably;

/// <summary>A started run: its id, and the means to follow it.</summary>
/// <typeparam name="TOutput">The run method's result.</typeparam>
public sealed class WorkflowHandle<TOutput>
{
    private readonly IDurableClient _client;

    /// <summary>Creates a handle for run <paramref name="workflowId"/>.</summary>
    /// <param name="client">The client that reads the run.</param>
    /// <param name="workflowId">The run's id.</param>
    public WorkflowHandle(IDurableClient client, string workflowId)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrEmpty(workflowId);
        _client = client;
        WorkflowId = workflowId;
    }

    /// <summary>The run's id.</summary>
    public string WorkflowId { get; }

    /// <summary>Reads the run's state.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The run's state.</returns>
    public async Task<WorkflowRunInfo> GetRunAsync(CancellationToken cancellationToken = default)
        => await _client.GetRunAsync(WorkflowId, cancellationToken).ConfigureAwait(false)
            ?? throw new WorkflowNotFoundException(WorkflowId);

    /// <summary>Waits for the run to finish and returns its result.</summary>
    /// <param name="cancellationToken">Stops waiting; the run goes on.</param>
    /// <returns>The run's result.</returns>
    /// <exception cref="WorkflowFailedException">The run failed, was dead-lettered or was cancelled.</exception>
    public Task<TOutput> WaitForResultAsync(CancellationToken cancellationToken = default)
        => _client.WaitForResultAsync<TOutput>(WorkflowId, cancellationToken);

    /// <summary>Cancels the run (see <see cref="IDurableClient.CancelAsync"/>).</summary>
    /// <param name="reason">Why, kept as the cancelled run's error message.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>Whether the cancel was requested now, before, or the run had already ended.</returns>
    public Task<CancelResult> CancelAsync(string? reason = null, CancellationToken cancellationToken = default)
        => _client.CancelAsync(WorkflowId, reason, cancellationToken);

    /// <inheritdoc/>
    public override string ToString() => WorkflowId;
}
