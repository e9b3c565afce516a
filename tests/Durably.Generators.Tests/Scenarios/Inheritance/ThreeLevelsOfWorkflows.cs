// Three workflows deriving from each other: each level's generated members hide the level below, without warnings.
using System.Threading.Tasks;
using Durably;
using Durably.Generators.Tests;

namespace Shapes;

[DurableWorkflow(Name = "one")]
public partial class One
{
    [WorkflowRun]
    public virtual async Task<int> RunAsync(int x) => await Add(x, 1);

    [Step]
    public Task<int> Add(int x, int y) => Task.FromResult(x + y);
}

[DurableWorkflow(Name = "two")]
public partial class Two : One
{
    [WorkflowRun]
    public override async Task<int> RunAsync(int x) => await Double(x);

    [Step]
    public Task<int> Double(int x) => Task.FromResult(x * 2);
}

[DurableWorkflow(Name = "three")]
public partial class Three : Two
{
    [WorkflowRun]
    public override async Task<int> RunAsync(int x) => await Triple(x);

    [Step]
    public Task<int> Triple(int x) => Task.FromResult(x * 3);
}

public static class Scenario
{
    public static async Task<string> RunAsync()
    {
        await using var host = ScenarioHost.Create(d => d.AddWorkflow<One>().AddWorkflow<Two>().AddWorkflow<Three>());
        var one = await host.Get<OneClient>().StartAsync(5, "run-1");
        var two = await host.Get<TwoClient>().StartAsync(5, "run-2");
        var three = await host.Get<ThreeClient>().StartAsync(5, "run-3");
        await host.FinishAsync<One>(one.WorkflowId);
        await host.FinishAsync<Two>(two.WorkflowId);
        await host.FinishAsync<Three>(three.WorkflowId);
        return string.Join(" ", await one.WaitForResultAsync(), await two.WaitForResultAsync(), await three.WaitForResultAsync());
    }
}
