using Durably.Infrastructure;
using Durably.Runtime.Engine;
using Durably.Runtime.Journal;
using Durably.Runtime.Replay;

namespace Durably.Runtime;

/// <summary>
/// Executes runs: claims a run, replays its journal through the run method and continues it live until it ends,
/// waits, or the execution is stopped. One engine serves any number of concurrent executions.
/// </summary>
public sealed class DurableEngine
{
    private readonly DurableOptions _options;

    /// <summary>Creates an engine.</summary>
    /// <param name="store">Where runs and journals live.</param>
    /// <param name="workflows">The workflows this engine can run: <c>T.Definition</c> of each generated workflow.</param>
    /// <param name="options">Settings; validated here.</param>
    /// <param name="services">Creates workflow instances and a scope per step attempt.</param>
    /// <param name="timeProvider">The clock; <see cref="TimeProvider.System"/> when null.</param>
    public DurableEngine(IWorkflowStore store, IEnumerable<WorkflowDefinition> workflows, DurableOptions options, IServiceProvider services, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(workflows);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(services);
        options.Validate();
        _options = options;
        Registry = new WorkflowRegistry(workflows);
        if (store is not ITransactionalStepStore
            && Registry.All.SelectMany(w => w.Steps.Where(s => s.Transactional).Select(s => (Workflow: w, Step: s))).FirstOrDefault() is { Step: not null } transactional)
        {
            throw new InvalidOperationException(
                $"Step '{transactional.Step.Id}' of workflow '{transactional.Workflow.Name}' is [Step(Transactional = true)], which needs the PostgreSQL store "
                + $"(its writes commit with the journal); this engine's store is {store.GetType().Name}. Use options.UsePostgres(…), or remove Transactional.");
        }

        Context = new EngineContext(store, options, services, timeProvider ?? TimeProvider.System) { Registry = Registry };
        if (store is IWorkflowStoreEvents events)
        {
            // Other processes' starts and results, where the store can tell: idle workers and waiting callers wake at once.
            events.RunsAvailable += Context.RunsAvailable.Set;
            events.RunFinished += Context.NotifyFinishedByStore;
            events.RunSignalled += Context.NotifySignalled;
        }
    }

    /// <summary>This engine's worker name, the owner recorded on the runs it claims.</summary>
    public string WorkerName => _options.WorkerName;

    /// <summary>The workflows this engine runs.</summary>
    public IReadOnlyCollection<WorkflowDefinition> Workflows => Registry.All;

    internal WorkflowRegistry Registry { get; }

    internal EngineContext Context { get; }

    internal DurableOptions Options => _options;

    /// <summary>
    /// Claims run <paramref name="workflowId"/> and executes it until it ends. Cancelling
    /// <paramref name="cancellationToken"/> stops the execution without recording anything for steps in flight and
    /// releases the run, so that a later execution resumes it from its journal.
    /// </summary>
    /// <param name="workflowId">The run.</param>
    /// <param name="cancellationToken">Stops the execution (shutdown).</param>
    /// <returns>What the execution did.</returns>
    /// <exception cref="WorkflowNotFoundException">No run has that id.</exception>
    /// <exception cref="UnknownWorkflowException">The run's workflow is not registered with this engine.</exception>
    public async Task<ExecutionResult> ExecuteAsync(string workflowId, CancellationToken cancellationToken = default)
    {
        Client.ClientArguments.ValidateId(workflowId, "workflow id", nameof(workflowId));
        var store = Context.Store;
        var run = await store.GetRunAsync(workflowId, cancellationToken).ConfigureAwait(false)
            ?? throw new WorkflowNotFoundException(workflowId);
        if (run.Status != WorkflowStatus.Running)
        {
            return new ExecutionResult(workflowId, ExecutionOutcome.AlreadyFinished, run.Status, run.Error);
        }

        _ = FindDefinition(run);
        var lease = await store.TryClaimAsync(workflowId, _options.WorkerName, _options.LeaseDuration, cancellationToken).ConfigureAwait(false);
        return lease is null
            ? new ExecutionResult(workflowId, ExecutionOutcome.NotClaimed, WorkflowStatus.Running, null)
            : await ExecuteClaimedAsync(lease, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Executes a run this engine's worker has just claimed (<see cref="IWorkflowStore.ClaimRunsAsync"/>) until it
    /// ends, as <see cref="ExecuteAsync"/> does after its own claim.
    /// </summary>
    /// <param name="lease">The claim.</param>
    /// <param name="cancellationToken">Stops the execution (shutdown).</param>
    /// <param name="loaded">
    /// The run and its journal as read after the claim took it (with the claim, or as this process created it held by
    /// <paramref name="lease"/>): nothing more to read. Null: they are read here, after the claim.
    /// </param>
    internal async Task<ExecutionResult> ExecuteClaimedAsync(RunLease lease, CancellationToken cancellationToken, RunSnapshot? loaded = null)
    {
        var workflowId = lease.WorkflowId;
        // The execution is engine work from here (synchronously, before any wait) until it ends, its waits aside.
        Context.Enter();
        try
        {
            // Claim first, then read: the journal read after the claim is the one no other writer can change.
            var snapshot = loaded ?? await Context.Store.LoadAsync(workflowId, cancellationToken).ConfigureAwait(false)
                ?? throw new WorkflowNotFoundException(workflowId);
            if (lease.TakenFrom is { } previous && !(previous == _options.WorkerName && _keptAfterFailure.TryRemove(workflowId, out _)))
            {
                // The run's holder never let it go: it crashed, stalled past its lease or restarted. Said once, at the claim.
                Context.Telemetry.RunRecovered(snapshot.Run.WorkflowName, snapshot.Run.Version, workflowId, previous);
            }

            return await FindDefinition(snapshot.Run).Accept(new Launcher(this, snapshot, lease, cancellationToken)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The execution failed (its store did, say) without letting the run go: taking it back later is this engine
            // going on, not a recovery from a crashed worker, and is not reported as one.
            _keptAfterFailure.TryAdd(workflowId, 0);
            throw;
        }
        finally
        {
            Context.Leave();
        }
    }

    private WorkflowDefinition FindDefinition(RunRecord run)
        => Registry.Find(run.WorkflowName, run.Version)
            ?? throw new UnknownWorkflowException(
                $"Run '{run.WorkflowId}' is of workflow '{run.WorkflowName}' version {run.Version}, which this engine does not have; "
                + $"it has {DescribeRegistered()}. Register the workflow class with AddDurably().AddWorkflow<T>().");

    /// <summary>Runs whose execution here failed while this engine held them.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _keptAfterFailure = new(StringComparer.Ordinal);

    internal string DescribeRegistered()
        => Registry.All.Count == 0 ? "no workflows" : string.Join(", ", Registry.All.Select(d => $"'{d.Name}' v{d.Version}"));

    private sealed class Launcher(DurableEngine engine, RunSnapshot snapshot, RunLease lease, CancellationToken cancellationToken)
        : IWorkflowDefinitionVisitor<Task<ExecutionResult>>
    {
        public async Task<ExecutionResult> Visit<TWorkflow, TInput, TOutput>(WorkflowDefinition<TWorkflow, TInput, TOutput> definition)
            where TWorkflow : class
        {
            using var execution = new RunExecution<TWorkflow, TInput, TOutput>(definition, snapshot, lease, engine.Context);
            return await execution.RunAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
