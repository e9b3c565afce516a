// The run's input named workflowId, like the id parameter of the client's StartAsync.
using System.Threading.Tasks;
using Durably;
using Durably.Generators.Tests;

namespace Shapes;

[DurableWorkflow]
public partial class Relay
{
    [WorkflowRun]
    public async Task<string> RunAsync(string workflowId) => await Forward(workflowId);

    [Step]
    public Task<string> Forward(string workflowId) => Task.FromResult("forwarded " + workflowId);
}

public static class Scenario
{
    public static async Task<string> RunAsync()
    {
        await using var host = ScenarioHost.Create(d => d.AddWorkflow<Relay>());
        var handle = await host.Get<RelayClient>().StartAsync("other-run", "run-1");
        await host.FinishAsync<Relay>(handle.WorkflowId);
        return handle.WorkflowId + ": " + await handle.WaitForResultAsync();
    }
}
