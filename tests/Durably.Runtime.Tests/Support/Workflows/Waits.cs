
namespace Durably.Runtime.Tests.Support;

// Workflows that wait: durable timers and signals.

/// <summary>A step, a durable sleep of the input's length, another step; returns how long the run method saw itself sleep.</summary>
[DurableWorkflow]
internal partial class Sleeper(BodyLog log)
{
    [WorkflowRun]
    public async Task<string> RunAsync(TimeSpan delay)
    {
        await Mark("before");
        var asleep = Workflow.Now;
        await Workflow.SleepAsync(delay);
        var awake = Workflow.Now;
        await Mark("after");
        return $"slept {awake - asleep}";
    }

    [Step]
    private Task<string> Mark(string what)
    {
        log.Record();
        return Task.FromResult(what);
    }
}

/// <summary>Sleeps until a given moment.</summary>
[DurableWorkflow]
internal partial class AlarmClock
{
    [WorkflowRun]
    public async Task<DateTimeOffset> RunAsync(DateTimeOffset wakeAt)
    {
        await Workflow.SleepUntilAsync(wakeAt);
        return Workflow.Now;
    }
}

/// <summary>A decision sent as a signal.</summary>
internal sealed record Decision(string By, bool Approved);

/// <summary>A step, then two waits for the same signal, an hour each.</summary>
[DurableWorkflow]
internal partial class ApprovalFlow(BodyLog log)
{
    [WorkflowRun]
    public async Task<string> RunAsync(string order)
    {
        await Request(order);
        var first = await Workflow.WaitForSignalAsync<Decision>("approve", TimeSpan.FromHours(1));
        var second = await Workflow.WaitForSignalAsync<Decision>("approve", TimeSpan.FromHours(1));
        return $"{Describe(first)}|{Describe(second)}";
    }

    private static string Describe(SignalResult<Decision> result) => result.IsReceived ? $"{result.Payload!.By}:{result.Payload.Approved}" : "timed out";

    [Step]
    private Task<string> Request(string order)
    {
        log.Record();
        return Task.FromResult(order);
    }
}

/// <summary>The same wait declared as a [Signal], so the generated client has a typed send method.</summary>
[DurableWorkflow]
internal partial class TypedApproval
{
    [WorkflowRun]
    public async Task<string> RunAsync(string order)
    {
        var decision = await WaitForApprovalAsync(TimeSpan.FromHours(1));
        return decision.IsReceived ? $"{order} {decision.Payload!.By}:{decision.Payload.Approved}" : $"{order} timed out";
    }

    [Signal(Name = "approve")]
    private partial Task<SignalResult<Decision>> WaitForApprovalAsync(TimeSpan timeout);
}

/// <summary>Every workflow object <see cref="Patient"/> creates, held weakly: a test sees whether an unloaded run still holds one.</summary>
internal sealed class Instances
{
    private readonly List<WeakReference> _created = [];

    public int Created
    {
        get
        {
            lock (_created)
            {
                return _created.Count;
            }
        }
    }

    public void Add(object instance)
    {
        lock (_created)
        {
            _created.Add(new WeakReference(instance));
        }
    }

    /// <summary>How many are still reachable after full, blocking collections.</summary>
    public int Alive()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true);
        lock (_created)
        {
            return _created.Count(w => w.IsAlive);
        }
    }
}

/// <summary>Asks, waits for "go" with no timeout, then finishes: a run that waits as long as it takes.</summary>
[DurableWorkflow]
internal partial class Patient
{
    private readonly BodyLog _log;

    public Patient(BodyLog log, Instances instances)
    {
        _log = log;
        instances.Add(this);
    }

    [WorkflowRun]
    public async Task<string> RunAsync(string order)
    {
        await Step(order + " asked");
        var go = await Workflow.WaitForSignalAsync<string>("go", Timeout.InfiniteTimeSpan);
        return await Step($"{order} went with {go.Payload}");
    }

    [Step]
    private Task<string> Step(string what)
    {
        _log.Record();
        return Task.FromResult(what);
    }
}
