namespace Durably.Bench;

// The workflows both bench tools time: compiled into each (see their .csproj), so the load tool and the engine
// benchmark measure the same code.

/// <summary>No step at all: what a run costs by itself (start, claim or held start, end, result).</summary>
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
