namespace Durably.Load;

/// <summary>No step at all: what a run costs by itself (start, claim, load, end, result).</summary>
[DurableWorkflow]
public partial class NoSteps
{
    [WorkflowRun]
    public Task<int> RunAsync(int input) => Task.FromResult(input);
}

/// <summary>Ten no-op steps one after another: the run's cost plus ten journaled steps.</summary>
[DurableWorkflow]
public partial class TenSteps
{
    [WorkflowRun]
    public async Task<int> RunAsync(int input)
    {
        var value = input;
        for (var i = 0; i < 10; i++)
        {
            value = await Next(value);
        }

        return value;
    }

    [Step]
    private Task<int> Next(int value) => Task.FromResult(value + 1);
}

/// <summary>One step, then a wait for signal "go" with no timeout, then one more step: a run that waits for a person.</summary>
[DurableWorkflow]
public partial class Waiter
{
    /// <summary>How many first steps have run in this process.</summary>
    public static int Asked;

    [WorkflowRun]
    public async Task<int> RunAsync(int input)
    {
        await Ask(input);
        var go = await Workflow.WaitForSignalAsync<int>("go", Timeout.InfiniteTimeSpan);
        return await Finish(input + go.Payload);
    }

    [Step]
    private Task<int> Ask(int value)
    {
        Interlocked.Increment(ref Asked);
        return Task.FromResult(value);
    }

    [Step]
    private Task<int> Finish(int value) => Task.FromResult(value);
}
