using System.Globalization;
using System.Text;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Testing;

/// <summary>
/// Runs workflows in a test: the real engine and worker, on the in-memory store unless
/// <see cref="DurableTestHostOptions.UseSqlite"/> or <see cref="DurableTestHostOptions.UsePostgres"/> says otherwise, with
/// the test's own service registrations. Typed clients come from <see cref="GetRequiredService{T}"/>; waits for results
/// fail after <see cref="DurableTestHostOptions.DefaultTimeout"/> with the run's state instead of hanging.
/// </summary>
/// <example>
/// <code>
/// await using var host = await DurableTestHost.StartAsync(
///     workflows => workflows.AddWorkflow&lt;OrderFulfillment&gt;(),
///     services => services.AddSingleton&lt;IPayments, FakePayments&gt;());
/// var receipt = await host.RunToCompletionAsync&lt;OrderFulfillmentClient, Receipt&gt;(client => client.StartAsync(order));
/// </code>
/// </example>
public sealed partial class DurableTestHost : IAsyncDisposable
{
    private readonly DurableTestHostOptions _options;
    private readonly HostedEngine.Setup _setup;
    private readonly List<HostedEngine> _stopped = [];
    private HostedEngine _current;
    private bool _disposed;

    private DurableTestHost(HostedEngine first, HostedEngine.Setup setup, HistoryRecorder recorder)
    {
        _current = first;
        _setup = setup;
        _options = setup.Options;
        _recorder = recorder;
        Time = setup.Time;
        AutoSkipTime = _options.AutoSkipTime;
    }

    private ServiceProvider Provider => _current.Services;

    private Durably.Runtime.Engine.EngineContext Engine => _current.Context;

    private TimeSkipper Skipper => _current.Skipper;

    /// <summary>
    /// The host's clock. It stands still unless moved: by <see cref="VirtualTime.Advance"/>, or by the host itself while
    /// the test waits for a result (see <see cref="AutoSkipTime"/>).
    /// </summary>
    public VirtualTime Time { get; }

    /// <summary>
    /// Whether the host moves <see cref="Time"/> while the test waits in <see cref="WaitForResultAsync{TOutput}"/> or
    /// <see cref="RunToCompletionAsync{TClient, TOutput}"/>: when no step body runs and every run waits for a time or an
    /// event, the clock jumps to the earliest due time. Starts as <see cref="DurableTestHostOptions.AutoSkipTime"/>.
    /// </summary>
    public bool AutoSkipTime { get; set; }

    /// <summary>The host's services: the test's registrations, Durably's, and the workflows' typed clients.</summary>
    public IServiceProvider Services => Provider;

    /// <summary>The untyped client of the host's engine.</summary>
    public IDurableClient Client => Provider.GetRequiredService<IDurableClient>();

    /// <summary>How long a wait for a result lasts when the call does not say.</summary>
    public TimeSpan DefaultTimeout => _options.DefaultTimeout;

    /// <summary>Builds the host and starts its worker.</summary>
    /// <param name="workflows">Registers the workflows under test (<c>workflows.AddWorkflow&lt;T&gt;()</c>).</param>
    /// <param name="services">Registers what the workflows need: the test's fakes and real services.</param>
    /// <param name="configure">The store, the default timeout and the worker's name; the in-memory store and 10 s by default.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The started host; dispose it to stop the worker.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="workflows"/> is null.</exception>
    /// <exception cref="ArgumentException">An option is out of range: the message names it and its value.</exception>
    public static async Task<DurableTestHost> StartAsync(
        Action<IDurablyBuilder> workflows, Action<IServiceCollection>? services = null, Action<DurableTestHostOptions>? configure = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workflows);
        var options = new DurableTestHostOptions();
        configure?.Invoke(options);
        options.Validate();

        // What the engine tells as it happens — retries, alerts — kept for the runs' histories, across restarts.
        var recorder = new HistoryRecorder();
        var time = new VirtualTime(options.StartTime);
        var setup = new HostedEngine.Setup(workflows, services, options, time, new Durably.Runtime.Stores.InMemoryWorkflowStore(time), recorder, recorder.Retried);
        return new DurableTestHost(await HostedEngine.StartAsync(setup, null, cancellationToken).ConfigureAwait(false), setup, recorder);
    }

    /// <summary>A service of the host: a workflow's typed client, a fake the test registered, Durably's own.</summary>
    /// <typeparam name="T">The service type.</typeparam>
    /// <returns>The service.</returns>
    /// <exception cref="InvalidOperationException">Nothing of that type is registered.</exception>
    public T GetRequiredService<T>()
        where T : notnull
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return Provider.GetRequiredService<T>();
    }

    /// <summary>Waits for a started run's result, at most <paramref name="timeout"/> (the host's default when null).</summary>
    /// <typeparam name="TOutput">The run's result type.</typeparam>
    /// <param name="handle">The run, as its client's <c>StartAsync</c> returned it.</param>
    /// <param name="timeout">How long to wait.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The run's result.</returns>
    /// <exception cref="DurableTestTimeoutException">The run did not end in time: the message shows where it stands.</exception>
    /// <exception cref="WorkflowFailedException">The run failed.</exception>
    public async Task<TOutput> WaitForResultAsync<TOutput>(WorkflowHandle<TOutput> handle, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handle);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var limit = timeout ?? _options.DefaultTimeout;
        DurableTestHostOptions.CheckTimeout(limit, nameof(timeout));
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(limit);
        try
        {
            var workflowId = await WaitForEndAsync(handle.WorkflowId, deadline.Token).ConfigureAwait(false);
            // Ended: the client reads its result (or its failure) at once.
            return await Client.WaitForResultAsync<TOutput>(workflowId, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new DurableTestTimeoutException(handle.WorkflowId, limit, await DescribeWithJournalAsync(handle.WorkflowId).ConfigureAwait(false));
        }
    }

    /// <summary>
    /// Waits until run <paramref name="workflowId"/> — or the run it continued as — has ended, and returns that run's id.
    /// Woken by this host's worker as the run ends; looks at the store again every few real milliseconds besides, never on
    /// the virtual clock (a poll timer there would be one more time to skip to). Time skips meanwhile (unless
    /// <see cref="AutoSkipTime"/> is off), never past the run's end.
    /// </summary>
    private async Task<string> WaitForEndAsync(string workflowId, CancellationToken cancellationToken)
    {
        while (true)
        {
            using var finished = Engine.WhenFinished(workflowId);
            using var skipping = AutoSkipTime ? Skipper.Skip(() => finished.Task.IsCompleted) : null;
            var run = await Engine.Store.GetRunAsync(workflowId, cancellationToken).ConfigureAwait(false)
                ?? throw new WorkflowNotFoundException(workflowId);
            if (run.ContinuedAs is { } next)
            {
                workflowId = next;
                continue;
            }

            if (run.Status is WorkflowStatus.Completed or WorkflowStatus.Failed or WorkflowStatus.DeadLettered or WorkflowStatus.Cancelled)
            {
                return workflowId;
            }

            await Task.WhenAny(finished.Task, Task.Delay(s_storeLook, cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    private static readonly TimeSpan s_storeLook = TimeSpan.FromMilliseconds(20);

    /// <summary>Starts a run through a typed client and waits for its result (see <see cref="WaitForResultAsync{TOutput}"/>).</summary>
    /// <typeparam name="TClient">The workflow's generated client.</typeparam>
    /// <typeparam name="TOutput">The run's result type.</typeparam>
    /// <param name="start">Starts the run: <c>client =&gt; client.StartAsync(input)</c>.</param>
    /// <param name="timeout">How long to wait for the result; the host's default when null.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The run's result.</returns>
    /// <exception cref="DurableTestTimeoutException">The run did not end in time: the message shows where it stands.</exception>
    /// <exception cref="WorkflowFailedException">The run failed.</exception>
    public async Task<TOutput> RunToCompletionAsync<TClient, TOutput>(Func<TClient, Task<WorkflowHandle<TOutput>>> start, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
        where TClient : notnull
    {
        ArgumentNullException.ThrowIfNull(start);
        var handle = await start(GetRequiredService<TClient>()).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"The start function returned no handle for {typeof(TClient).Name}.");
        return await WaitForResultAsync(handle, timeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Where run <paramref name="workflowId"/> stands, as text for a failure message: status, operations in progress, last outcome.</summary>
    /// <param name="workflowId">The run.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>A few lines; says so when the run does not exist.</returns>
    public async Task<string> DescribeRunAsync(string workflowId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workflowId);
        var details = await Client.GetRunDetailsAsync(workflowId, cancellationToken).ConfigureAwait(false);
        if (details is null)
        {
            return $"Run '{workflowId}' does not exist in this host's store.";
        }

        var text = new StringBuilder();
        var run = details.Run;
        text.Append(CultureInfo.InvariantCulture, $"Run '{run.WorkflowId}' of workflow '{run.WorkflowName}' v{run.Version}: {run.Status}");
        if (run.Error is { } error)
        {
            text.Append(CultureInfo.InvariantCulture, $" ({error.Type}: {error.Message})");
        }

        text.AppendLine(".");
        var current = details.CurrentOperations;
        text.AppendLine(current.Count == 0
            ? "  In progress: nothing (the run method is between operations, or not loaded)."
            : "  In progress: " + string.Join("; ", current.Select(Describe)) + ".");
        if (details.LastCompleted is { } last)
        {
            text.AppendLine("  Last outcome: " + Describe(last) + ".");
        }

        if (details.WakeAt is { } wake)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  Wakes at: {wake:O}.");
        }

        text.Append(CultureInfo.InvariantCulture, $"  Journal: {details.Operations.Count} operations; worker: {details.Worker ?? "none"}{(details.IsUnloaded ? ", unloaded" : string.Empty)}.");
        return text.ToString();

        static string Describe(WorkflowOperationInfo operation)
            => $"#{operation.Sequence} {operation.Kind} '{operation.Name}' {operation.State}" + (operation.Kind == WorkflowOperationKind.Step ? $", attempt {operation.Attempts}" : string.Empty);
    }

    /// <summary>Stops the worker and disposes the host's services.</summary>
    /// <returns>A task that completes when the worker has stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _current.StopAsync().ConfigureAwait(false);
        foreach (var engine in _stopped.Append(_current))
        {
            await engine.DisposeAsync().ConfigureAwait(false);
        }
    }
}
