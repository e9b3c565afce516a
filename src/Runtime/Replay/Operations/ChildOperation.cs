using System.Security.Cryptography;
using System.Text;
using Durably.Infrastructure;
using Durably.Runtime.Journal;

namespace Durably.Runtime.Replay.Operations;

/// <summary>
/// A child workflow: its attempting row (holding the child's id) is journaled first, then the child run is created with
/// its link to this run — once, whatever replays or crashes come between — and the wait ends when the child ends. The
/// wait looks at the child whenever this process finishes it, the store announces its end, or a poll interval passes;
/// while waiting the run may unload, and the child's end wakes it (<see cref="IWorkflowStoreChildren"/>).
/// </summary>
internal sealed class ChildOperation<TWorkflow, TInput, TOutput>(IOperationHost host, long sequence, WorkflowDefinition<TWorkflow, TInput, TOutput> child, TInput input, ChildWorkflowOptions options, string caller)
    : WaitOperation(host, sequence), IChildWait
    where TWorkflow : class
{
    private readonly TaskCompletionSource<TOutput> _completion = new();
    private string _childId = ChildId(host.WorkflowId, child.Name, sequence);
    private string? _conflict;

    public Task<TOutput> Task => _completion.Task;

    public string WaitingFor { get; private set; } = "";

    public override DateTimeOffset DueAt => DateTimeOffset.MaxValue;

    protected override string OperationId => child.Name;

    protected override OperationKind Kind => OperationKind.Child;

    private string What => $"child workflow '{child.Name}' (run '{_childId}', sequence {Sequence}) of {Host.RunName}";

    /// <summary>
    /// The child's id: the parent's id, the child's workflow and the call's sequence (<c>order-7/Shipment/3</c>); when that
    /// is longer than an id may be, a hash of it, still one id per call.
    /// </summary>
    public static string ChildId(string parentId, string workflowName, long sequence)
    {
        var id = $"{parentId}/{workflowName}/{sequence}";
        if (id.Length <= DurableOptions.MaxWorkflowIdLength)
        {
            return id;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(id)))[..32];
        var name = workflowName.Length > 64 ? workflowName[..64] : workflowName;
        return $"child-{hash}/{name}/{sequence}";
    }

    protected override void ReadInput(string json) => _childId = Host.Engine.Serializer.Deserialize<string>(json, $"The child run's id at sequence {Sequence} of {Host.RunName}");

    protected override string InputJson() => Host.Engine.Serializer.Serialize(_childId, $"The child run's id of {caller}");

    /// <summary>
    /// Creates the child (once: a second creation finds it) before the wait counts as ready — a run unloaded before its
    /// child existed would wait for an end that can never come.
    /// </summary>
    protected override async Task BeforeWaitingAsync(JournalEntry entry, CancellationToken token)
    {
        var engine = Host.Engine;
        var children = engine.Store as IWorkflowStoreChildren
            ?? throw new NotSupportedException($"The store {engine.Store.GetType().Name} does not keep child runs (IWorkflowStoreChildren), so {What} cannot start.");
        var (version, fingerprint) = engine.Registry.StartVersion(child, typeof(TInput), typeof(TOutput));
        var inputJson = engine.Serializer.Serialize(input, $"The input of {What}");
        var record = RunRecord.Started(_childId, child.Name, version, inputJson, engine.UtcNow(), fingerprint: fingerprint);
        var link = new ChildLink(_childId, Host.WorkflowId, Sequence) { AbandonOnParentCancel = options.OnParentCancel == ParentCancelPolicy.Abandon };
        var (run, _) = await children.CreateChildRunAsync(record, link, token).ConfigureAwait(false);
        _conflict = run.WorkflowName == child.Name ? null : run.WorkflowName;
    }

    protected override async Task WaitAsync(JournalEntry entry, CancellationToken token)
    {
        var engine = Host.Engine;
        if (_conflict is { } other)
        {
            Fail(entry, "Durably.WorkflowConflictException", $"could not start: id '{_childId}' belongs to a run of workflow '{other}'.");
            return;
        }

        // A child that continued as new: its result is the newest run's.
        var id = _childId;
        while (true)
        {
            WaitingFor = id;
            using var finished = engine.WhenFinished(id);
            var current = engine.Store is IWorkflowStoreWatches watches
                ? await watches.WatchRunAsync(id, token).ConfigureAwait(false)
                : await engine.Store.GetRunAsync(id, token).ConfigureAwait(false);
            if (current is null)
            {
                Fail(entry, "Durably.WorkflowNotFoundException", $"is gone: no run has id '{id}' (was it purged?).");
                return;
            }

            if (current.ContinuedAs is { } next)
            {
                id = next;
                continue;
            }

            switch (current.Status)
            {
                case WorkflowStatus.Completed:
                    Host.Post(new OperationFinished(this, entry with { State = JournalEntryState.Completed, OutputJson = current.OutputJson ?? "null" }));
                    return;
                case WorkflowStatus.Failed or WorkflowStatus.Cancelled:
                    Fail(entry, current.Error?.Type ?? "Durably.WorkflowCancelledException", $"ended {current.Status}: {current.Error?.Message ?? current.CancelReason ?? "no reason given"}");
                    return;
            }

            // Running, or parked as a dead letter (a person may retry it): wait for news of its end.
            await engine.ParkedAsync(System.Threading.Tasks.Task.WhenAny(finished.Task, System.Threading.Tasks.Task.Delay(engine.PollInterval, engine.Time, token))).ConfigureAwait(false);
            token.ThrowIfCancellationRequested();
        }
    }

    private void Fail(JournalEntry entry, string type, string message)
        => Host.Post(new OperationFinished(this, entry with { State = JournalEntryState.Failed, Error = new WorkflowError(type, message) }));

    public override void Deliver(JournalEntry terminal)
    {
        if (terminal.State == JournalEntryState.Completed)
        {
            _completion.SetResult(Host.Engine.Serializer.Deserialize<TOutput>(terminal.OutputJson ?? "null", $"The result of {What}"));
        }
        else
        {
            _completion.SetException(new ChildWorkflowFailedException(_childId, child.Name, Sequence, terminal.Error ?? new WorkflowError("Durably.ChildWorkflowFailedException", "failed")));
        }
    }
}

/// <summary>A wait for a child run, as the execution sees it when a child's end must be looked at now.</summary>
internal interface IChildWait
{
    /// <summary>The run the wait looks at: the child, or the run it continued as.</summary>
    string WaitingFor { get; }
}
