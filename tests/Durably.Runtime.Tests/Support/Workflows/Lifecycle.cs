using Microsoft.Extensions.Logging;

namespace Durably.Runtime.Tests.Support;

// Workflows for a run's life: continue-as-new, cancellation, replay-safe logging.

/// <summary>What <see cref="Tally"/> carries from one run to the next.</summary>
internal sealed record TallyState(int Total, int Remaining);

/// <summary>
/// Adds 10 per run and continues as new while runs remain; the last run waits for a "bonus" signal. A negative
/// remainder continues with the wrong input type.
/// </summary>
[DurableWorkflow]
internal partial class Tally(BodyLog log)
{
    [WorkflowRun]
    public async Task<int> RunAsync(TallyState state)
    {
        var total = await Add(state.Total);
        Workflow.SetStatus(new TallyState(total, state.Remaining));
        if (state.Remaining < 0)
        {
            throw Workflow.ContinueAsNew("not a tally state");
        }

        if (state.Remaining > 0)
        {
            throw Workflow.ContinueAsNew(new TallyState(total, state.Remaining - 1));
        }

        var bonus = await Workflow.WaitForSignalAsync<int>("bonus", Timeout.InfiniteTimeSpan);
        return total + bonus.Payload;
    }

    [Step]
    private Task<int> Add(int total)
    {
        log.Record();
        return Task.FromResult(total + 10);
    }
}

/// <summary>
/// A step, a step held at the gate (which honours its cancellation token unless the mode is "stubborn"), a last step:
/// what a cancel stops in the middle.
/// </summary>
[DurableWorkflow]
internal partial class Stoppable(BodyLog log, Gate gate)
{
    [WorkflowRun]
    public async Task<string> RunAsync(string mode)
    {
        await Step("first");
        var held = await Hold(mode);
        await Step("last");
        return held;
    }

    [Step]
    private Task<string> Step(string what)
    {
        log.Record();
        return Task.FromResult(what);
    }

    [Step]
    private async Task<string> Hold(string mode, CancellationToken cancellationToken = default)
    {
        log.Record();
        await gate.PassAsync(mode == "stubborn" ? CancellationToken.None : cancellationToken);
        return mode;
    }
}

/// <summary>
/// A step that throws an exception with the given message, <c>&lt;lone&gt;</c> in it standing for a lone UTF-16
/// surrogate (which no JSON input carries through); the run method returns what it caught.
/// </summary>
[DurableWorkflow]
internal partial class Thrower
{
    [WorkflowRun]
    public async Task<string> RunAsync(string message)
    {
        try
        {
            await Throw(message);
            return "not reached";
        }
        catch (StepFailedException failure)
        {
            return failure.Error.Message;
        }
    }

    [Step]
    private Task Throw(string message) => throw new InvalidOperationException(message.Replace("<lone>", "\uD800", StringComparison.Ordinal));
}

/// <summary>A run method that throws its own exception, outside any step.</summary>
[DurableWorkflow]
internal partial class Exploder
{
    [WorkflowRun]
    public Task<int> RunAsync(string message) => throw new InvalidOperationException(message);
}

/// <summary>What <see cref="Chatty"/> saw of <see cref="Workflow.IsReplaying"/>, in order.</summary>
internal sealed class ReplayFlags
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<bool> _flags = new();

    public IReadOnlyList<bool> All => [.. _flags];

    public void Add(bool replaying) => _flags.Enqueue(replaying);
}

/// <summary>Logs through Workflow.Logger before, between and after two steps; the second waits at the gate.</summary>
[DurableWorkflow]
internal partial class Chatty(BodyLog log, Gate gate, ReplayFlags flags)
{
    [WorkflowRun]
    public async Task<string> RunAsync(string order)
    {
        flags.Add(Workflow.IsReplaying);
        Workflow.Logger.LogInformation("Starting {Order}", order);
        var first = await First(order);
        flags.Add(Workflow.IsReplaying);
        Workflow.Logger.LogInformation("First step gave {Result}", first);
        var second = await Second(order);
        flags.Add(Workflow.IsReplaying);
        Workflow.Logger.LogWarning("Finished {Order}", order);
        return first + second;
    }

    [Step]
    private Task<string> First(string order)
    {
        log.Record();
        return Task.FromResult("1");
    }

    [Step]
    private async Task<string> Second(string order, CancellationToken cancellationToken = default)
    {
        log.Record();
        await gate.PassAsync(cancellationToken);
        return "2";
    }
}
