// Steps named like the members Durably generates in the workflow class: DurableSteps, DurableDefinition.
using System.Threading.Tasks;
using Durably;
using Durably.Generators.Tests;

namespace Shapes;

[DurableWorkflow]
public partial class Clash
{
    [WorkflowRun]
    public async Task<int> RunAsync(int seed) => await DurableSteps(seed) + await DurableDefinition(seed);

    [Step]
    public Task<int> DurableSteps(int value) => Task.FromResult(value + 1);

    [Step]
    public Task<int> DurableDefinition(int value) => Task.FromResult(value * 10);
}

public static class Scenario
{
    public static async Task<string> RunAsync()
    {
        await using var host = ScenarioHost.Create(d => d.AddWorkflow<Clash>());
        var handle = await host.Get<ClashClient>().StartAsync(4, "run-1");
        await host.FinishAsync<Clash>(handle.WorkflowId);
        return (await handle.WaitForResultAsync()).ToString();
    }
}
