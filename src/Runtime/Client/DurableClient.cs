using Durably.Infrastructure;
using Durably.Runtime.Client;
using Durably.Runtime.Journal;

namespace Durably.Runtime;

/// <summary>The <see cref="IDurableClient"/> over an engine's store.</summary>
public sealed partial class DurableClient : IDurableClient
{
    private readonly DurableEngine _engine;

    /// <summary>Creates a client for the runs of <paramref name="engine"/>.</summary>
    /// <param name="engine">The engine whose store and workflows the client uses.</param>
    public DurableClient(DurableEngine engine)
    {
        ArgumentNullException.ThrowIfNull(engine);
        _engine = engine;
    }

    /// <inheritdoc/>
    public Task<WorkflowHandle<TOutput>> StartAsync<TWorkflow, TInput, TOutput>(
        WorkflowDefinition<TWorkflow, TInput, TOutput> workflow, TInput input, string? workflowId = null, CancellationToken cancellationToken = default)
        where TWorkflow : class
        => StartAsync(workflow, input, new WorkflowStartOptions { WorkflowId = workflowId }, cancellationToken);

    /// <inheritdoc/>
    public async Task<WorkflowHandle<TOutput>> StartAsync<TWorkflow, TInput, TOutput>(
        WorkflowDefinition<TWorkflow, TInput, TOutput> workflow, TInput input, WorkflowStartOptions options, CancellationToken cancellationToken = default)
        where TWorkflow : class
    {
        ArgumentNullException.ThrowIfNull(workflow);
        ArgumentNullException.ThrowIfNull(options);
        if (!_engine.Registry.Contains(workflow))
        {
            throw new UnknownWorkflowException(
                $"Workflow '{workflow.Name}' version {workflow.Version} ({workflow.WorkflowType.FullName}) is not registered with this Durably engine, "
                + $"which has {_engine.DescribeRegistered()}. Register it with services.AddDurably().AddWorkflow<{workflow.WorkflowType.Name}>().");
        }

        var workflowId = options.WorkflowId ?? Guid.NewGuid().ToString("N");
        ValidateWorkflowId(workflowId);
        ClientArguments.RefuseContinuationSuffix(workflowId);
        if (options.InstanceKey is { } key)
        {
            ClientArguments.ValidateId(key, "instance key", nameof(options));
        }

        if (!Enum.IsDefined(options.IfActive))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.IfActive, $"WorkflowStartOptions.IfActive {(int)options.IfActive} is not an ActiveInstanceBehavior.");
        }

        // New runs start on the highest registered version of the workflow; older versions stay to finish their runs.
        var (version, fingerprint) = _engine.Registry.StartVersion(workflow, typeof(TInput), typeof(TOutput));
        if (input is null && !(_engine.Registry.Find(workflow.Name, version) ?? workflow).InputIsNullable)
        {
            // The run method would meet a null it declared it never takes, and fail at once: refuse it before anything is stored.
            throw new ArgumentNullException(nameof(input),
                $"Workflow '{workflow.Name}' v{version} takes a non-nullable {Engine.TypeNames.Display(typeof(TInput))}; a null input is refused. "
                + $"Pass an input, or declare the run method's parameter as {Engine.TypeNames.Display(typeof(TInput))}? if null is meaningful.");
        }

        var context = _engine.Context;
        var inputJson = context.Serializer.Serialize(input, $"The input of workflow '{workflow.Name}'");
        var now = context.UtcNow();
        var record = RunRecord.Started(workflowId, workflow.Name, version, inputJson, now, instanceKey: options.InstanceKey, fingerprint: fingerprint);

        // When this process's worker has a free slot, the run is created already held by it and runs here at once.
        var local = context.LocalRunner;
        var reserved = local is not null && local.TryReserve(workflowId);
        try
        {
            if (reserved)
            {
                record = record with { Owner = local!.WorkerName, Epoch = 1, LeaseExpiresAt = now + context.LeaseDuration };
            }

            // Held here, the run may begin before its start is on disk (the store flushes the start beside its first write)
            // — without an instance key to check first, before its row is even sent (see RunUnsentAsync).
            var early = reserved ? context.Store as IWorkflowStoreEarlyStarts : null;
            var unsent = early is not null && options.InstanceKey is null;
            reserved &= !unsent;
            var (stored, created, start) = unsent
                ? await RunUnsentAsync(early!, local!, record, cancellationToken).ConfigureAwait(false)
                : await WithoutStartAsync(early?.CreateRunEarlyAsync(record, cancellationToken) ?? context.Store.CreateRunAsync(record, cancellationToken)).ConfigureAwait(false);
            if (created && start is not null)
            {
                return new WorkflowHandle<TOutput>(this, workflowId);
            }

            if (created)
            {
                if (reserved)
                {
                    reserved = false;
                    if (early is null)
                    {
                        local!.Run(new RunLease(workflowId, local.WorkerName, stored.Epoch), new RunSnapshot(stored, []));
                    }
                    else
                    {
                        await RunEarlyAsync(early, local!, stored, record, cancellationToken).ConfigureAwait(false);
                    }
                }
                else
                {
                    context.RunsAvailable.Set();
                }

                return new WorkflowHandle<TOutput>(this, workflowId);
            }

            // Started here a moment ago and not yet on disk: this start, too, returns only once it is.
            if (context.EarlyStarts.Find(stored.WorkflowId) is { } open && open != start)
            {
                await open.Durable.WaitAsync(cancellationToken).ConfigureAwait(false);
            }

            return Existing(stored);
        }
        finally
        {
            if (reserved)
            {
                local!.Unreserve(workflowId);
            }
        }

        // Not created: the run with this id, or the active run that holds the instance key.
        WorkflowHandle<TOutput> Existing(RunRecord stored)
        {
            if (stored.WorkflowId != workflowId)
            {
                // An active run holds the instance key.
                return options.IfActive == ActiveInstanceBehavior.Join
                    ? new WorkflowHandle<TOutput>(this, stored.WorkflowId)
                    : throw new WorkflowInstanceActiveException(workflow.Name, options.InstanceKey!, stored.WorkflowId);
            }

            if (stored.WorkflowName != workflow.Name)
            {
                throw new WorkflowConflictException(workflowId,
                    $"Workflow id '{workflowId}' is already used by a run of workflow '{stored.WorkflowName}'; it cannot start '{workflow.Name}'. Workflow ids are never reused.");
            }

            if (stored.InputJson != inputJson)
            {
                throw new WorkflowConflictException(workflowId,
                    $"Workflow id '{workflowId}' is already used by a run of '{workflow.Name}' with another input; a start with the same id must have the same input.");
            }

            if (stored.InstanceKey != options.InstanceKey)
            {
                throw new WorkflowConflictException(workflowId,
                    $"Workflow id '{workflowId}' is already used by a run of '{workflow.Name}' with instance key {Show(stored.InstanceKey)}; a start with the same id must have the same key (it has {Show(options.InstanceKey)}).");
            }

            return new WorkflowHandle<TOutput>(this, workflowId);
        }

        static string Show(string? key) => key is null ? "none" : $"'{key}'";
    }

    /// <inheritdoc/>
    public async Task<WorkflowRunInfo?> GetRunAsync(string workflowId, CancellationToken cancellationToken = default)
    {
        ValidateWorkflowId(workflowId);
        var run = await _engine.Context.Store.GetRunAsync(workflowId, cancellationToken).ConfigureAwait(false);
        return run?.ToInfo();
    }

    /// <inheritdoc/>
    public async Task<WorkflowRunDetails?> GetRunDetailsAsync(string workflowId, CancellationToken cancellationToken = default)
    {
        ValidateWorkflowId(workflowId);
        if (await _engine.Context.Store.LoadAsync(workflowId, cancellationToken).ConfigureAwait(false) is not { } snapshot)
        {
            return null;
        }

        var run = snapshot.Run;
        var active = run.Status == WorkflowStatus.Running;
        var unloaded = active && run.Owner is null && run.WakeAt is not null;
        var (parent, children) = _engine.Context.Store is IWorkflowStoreChildren family
            ? ((await family.GetParentAsync(workflowId, cancellationToken).ConfigureAwait(false))?.ParentId,
                (await family.ListChildrenAsync(workflowId, cancellationToken).ConfigureAwait(false)).Select(c => c.ChildId).ToList())
            : (null, []);
        var published = _engine.Context.StatusStore is { } statuses ? await statuses.GetRunStatusAsync(workflowId, cancellationToken).ConfigureAwait(false) : null;
        return new WorkflowRunDetails(
            run.ToInfo() with { ParentWorkflowId = parent },
            run.Status == WorkflowStatus.Completed ? run.OutputJson : null,
            WithProgress([.. snapshot.Journal.OrderBy(e => e.Sequence).Select(ToOperation)], published),
            active ? run.Owner : null,
            unloaded,
            unloaded && run.WakeAt != RunRecord.WakeOnSignalOnly ? run.WakeAt : null)
        {
            InputJson = run.InputJson,
            ParentWorkflowId = parent,
            ChildWorkflowIds = children,
            StatusJson = published?.StatusJson,
            StatusUpdatedAt = published?.StatusJson is null ? null : published.StatusUpdatedAt,
        };
    }

    private WorkflowOperationInfo ToOperation(JournalEntry entry)
        => new(entry.Sequence, entry.OperationId, (WorkflowOperationKind)entry.Kind,
            entry.State switch
            {
                JournalEntryState.Completed => WorkflowOperationState.Completed,
                JournalEntryState.Failed => WorkflowOperationState.Failed,
                _ => WorkflowOperationState.InProgress,
            },
            entry.Attempts, entry.StartedAt, entry.CompletedAt, entry.CompletionIndex, DueAt(entry), entry.Error)
        {
            InputJson = entry.InputJson,
            OutputJson = entry.OutputJson,
            RetryAt = entry.RetryAt,
            IdempotencyKey = entry.IdempotencyKey,
        };

    /// <summary>A timer's wake time or a signal wait's deadline, as journaled in the row's input.</summary>
    private DateTimeOffset? DueAt(JournalEntry entry)
    {
        var what = $"The input of journal row {entry.Sequence} of run '{entry.WorkflowId}'";
        return entry.Kind switch
        {
            OperationKind.Timer => _engine.Context.Serializer.Deserialize<DateTimeOffset>(entry.InputJson ?? "null", what),
            OperationKind.Signal => _engine.Context.Serializer.Deserialize<DateTimeOffset?>(entry.InputJson ?? "null", what),
            _ => null,
        };
    }

    /// <inheritdoc/>
    public async Task<WorkflowRunPage> ListRunsAsync(WorkflowRunQuery? query = null, CancellationToken cancellationToken = default)
    {
        query ??= new WorkflowRunQuery();
        if (query.PageSize is < 1 or > WorkflowRunQuery.MaxPageSize)
        {
            throw new ArgumentOutOfRangeException(nameof(query), query.PageSize, $"WorkflowRunQuery.PageSize must be 1 to {WorkflowRunQuery.MaxPageSize}; it is {query.PageSize}.");
        }

        if (query.WorkflowName is { } name && (string.IsNullOrWhiteSpace(name) || name.Length > DurableOptions.MaxWorkflowIdLength))
        {
            throw new ArgumentException(
                $"WorkflowRunQuery.WorkflowName must be a workflow's name, 1 to {DurableOptions.MaxWorkflowIdLength} characters and not blank; it is {(name.Length == 0 ? "empty" : $"{name.Length} characters")}.",
                nameof(query));
        }

        if (query.Status is { } status && !Enum.IsDefined(status))
        {
            throw new ArgumentOutOfRangeException(nameof(query), status, $"WorkflowRunQuery.Status {(int)status} is not a WorkflowStatus.");
        }

        if (query.Version is { } version && (version < 1 || query.WorkflowName is null))
        {
            throw new ArgumentException(
                query.WorkflowName is null
                    ? $"WorkflowRunQuery.Version ({version}) filters one workflow's runs; set WorkflowName too."
                    : $"WorkflowRunQuery.Version must be 1 or more; it is {version}.",
                nameof(query));
        }

        if (query.InstanceKey is { } key)
        {
            ClientArguments.ValidateId(key, "instance key of WorkflowRunQuery", nameof(query));
        }

        if (query is { CreatedFrom: { } from, CreatedBefore: { } before } && from >= before)
        {
            throw new ArgumentException($"WorkflowRunQuery.CreatedFrom ({from:O}) must be earlier than CreatedBefore ({before:O}).", nameof(query));
        }

        var rows = await _engine.Context.Store.ListRunsAsync(
            new RunListQuery(query.WorkflowName, query.Status, query.CreatedFrom, query.CreatedBefore, PageToken.Decode(query.PageToken), query.PageSize + 1)
            {
                Version = query.Version,
                InstanceKey = query.InstanceKey,
            },
            cancellationToken).ConfigureAwait(false);
        var page = rows.Take(query.PageSize).ToList();
        // Each child names its parent: one read for the page, on a store that keeps child runs.
        var parents = _engine.Context.Store is IWorkflowStoreChildren family && page.Count > 0
            ? (await family.GetParentsAsync([.. page.Select(r => r.WorkflowId)], cancellationToken).ConfigureAwait(false)).ToDictionary(l => l.ChildId, l => l.ParentId, StringComparer.Ordinal)
            : [];
        return new WorkflowRunPage(
            [.. page.Select(r => r.ToInfo() with { ParentWorkflowId = parents.GetValueOrDefault(r.WorkflowId) })],
            rows.Count > query.PageSize ? PageToken.Encode(page[^1]) : null);
    }

    /// <inheritdoc/>
    public async Task<bool> SignalAsync<TPayload>(string workflowId, string signalName, TPayload payload, string? signalId = null, CancellationToken cancellationToken = default)
    {
        ValidateWorkflowId(workflowId);
        Workflow.ValidateSignalName(signalName);
        if (signalId is not null)
        {
            ClientArguments.ValidateId(signalId, "signal id", nameof(signalId));
        }

        // A run that continued as new hands its signals on: follow it to the newest run.
        var target = workflowId;
        while (true)
        {
            var run = await NewestRunAsync(target, workflowId, cancellationToken).ConfigureAwait(false);
            target = run.WorkflowId;
            if (_engine.Registry.Find(run.WorkflowName, run.Version) is { Signals.Count: > 0 } definition && !definition.Signals.Contains(signalName, StringComparer.Ordinal))
            {
                throw new ArgumentException(
                    $"Run '{workflowId}' is of workflow '{run.WorkflowName}' v{run.Version}, which has no signal '{signalName}'; it declares {string.Join(", ", definition.Signals.Select(s => $"'{s}'"))}.",
                    nameof(signalName));
            }

            var payloadJson = _engine.Context.Serializer.Serialize(payload, $"The payload of signal '{signalName}' for run '{workflowId}'");
            if (_engine.Registry.Find(run.WorkflowName, run.Version)?.SignalPayloadTypes.GetValueOrDefault(signalName) is { } declared)
            {
                // The run will read the payload as the declared type: refuse now what it could not read, rather than park the run later.
                _engine.Context.Serializer.CheckReadable(payloadJson, declared, payload?.GetType() ?? typeof(TPayload),
                    $"The payload of signal '{signalName}' for run '{workflowId}' (workflow '{run.WorkflowName}' v{run.Version})");
            }

            var signal = new SignalRecord(target, signalId ?? Guid.NewGuid().ToString("N"), signalName, payloadJson, _engine.Context.UtcNow());
            signalId = signal.SignalId;
            switch (await _engine.Context.Store.AddSignalAsync(signal, cancellationToken).ConfigureAwait(false))
            {
                case SignalSendOutcome.Accepted:
                    _engine.Context.NotifySignalled(target);
                    return true;
                case SignalSendOutcome.Duplicate:
                    return false;
                case SignalSendOutcome.RunNotFound:
                    throw new WorkflowNotFoundException(workflowId);
                default:
                    if ((await _engine.Context.Store.GetRunAsync(target, cancellationToken).ConfigureAwait(false))?.ContinuedAs is not null)
                    {
                        continue;
                    }

                    throw new WorkflowNotRunningException(workflowId, $"signal '{signalName}'");
            }
        }
    }

    /// <inheritdoc/>
    public async Task<CancelResult> CancelAsync(string workflowId, string? reason = null, CancellationToken cancellationToken = default)
    {
        ValidateWorkflowId(workflowId);
        ClientArguments.ValidateReason(workflowId, reason, "cancel");
        reason ??= "";

        // A run that continued as new carries on as the newest run: cancel that one.
        var target = workflowId;
        while (true)
        {
            target = (await NewestRunAsync(target, workflowId, cancellationToken).ConfigureAwait(false)).WorkflowId;
            switch (await _engine.Context.Store.RequestCancelAsync(target, reason, cancellationToken).ConfigureAwait(false))
            {
                case CancelRequestOutcome.Requested:
                    _engine.Context.NotifySignalled(target);
                    return CancelResult.Requested;
                case CancelRequestOutcome.AlreadyRequested:
                    return CancelResult.AlreadyRequested;
                case CancelRequestOutcome.RunNotFound:
                    throw new WorkflowNotFoundException(workflowId);
                default:
                    // Ended between the read and the request: if it continued as new, the newest run is the one to cancel.
                    if ((await _engine.Context.Store.GetRunAsync(target, cancellationToken).ConfigureAwait(false))?.ContinuedAs is not null)
                    {
                        continue;
                    }

                    return CancelResult.AlreadyEnded;
            }
        }
    }

    /// <summary>Reads run <paramref name="from"/> and, when it continued as new, the runs after it, up to the newest.</summary>
    private async Task<RunRecord> NewestRunAsync(string from, string askedFor, CancellationToken cancellationToken)
    {
        var run = await _engine.Context.Store.GetRunAsync(from, cancellationToken).ConfigureAwait(false) ?? throw new WorkflowNotFoundException(askedFor);
        while (run.ContinuedAs is { } next)
        {
            run = await _engine.Context.Store.GetRunAsync(next, cancellationToken).ConfigureAwait(false) ?? throw new WorkflowNotFoundException(askedFor);
        }

        return run;
    }

    /// <summary>Throws, naming the id, unless it is 1 to 256 characters with no control characters.</summary>
    /// <param name="workflowId">The id.</param>
    /// <exception cref="ArgumentException">The id is malformed.</exception>
    public static void ValidateWorkflowId(string workflowId) => ClientArguments.ValidateId(workflowId, "workflow id", nameof(workflowId));
}
