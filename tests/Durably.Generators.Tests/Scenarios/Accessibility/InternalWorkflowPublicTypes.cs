// An internal workflow with public types: its client is internal too.
using System.Threading.Tasks;
using Durably;
using Durably.Generators.Tests;

namespace Shapes;

[DurableWorkflow]
internal partial class Sweep
{
    [WorkflowRun]
    public async Task<int> RunAsync(int rooms) => await Clean(rooms);

    [Step]
    public Task<int> Clean(int rooms) => Task.FromResult(rooms * 3);
}

public static class Scenario
{
    public static async Task<string> RunAsync()
    {
        await using var host = ScenarioHost.Create(d => d.AddWorkflow<Sweep>());
        var handle = await host.Get<SweepClient>().StartAsync(2, "run-1");
        await host.FinishAsync<Sweep>(handle.WorkflowId);
        return await handle.WaitForResultAsync() + " (client " + (typeof(SweepClient).IsPublic ? "public" : "internal") + ")";
    }
}
