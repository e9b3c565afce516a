// A workflow in the global namespace.
using System.Threading.Tasks;
using Durably;
using Durably.Generators.Tests;

[DurableWorkflow]
public partial class Cleanup
{
    [WorkflowRun]
    public async Task<int> RunAsync(int files) => await Delete(files);

    [Step]
    public Task<int> Delete(int files) => Task.FromResult(files - 1);
}

public static class Scenario
{
    public static async Task<string> RunAsync()
    {
        await using var host = ScenarioHost.Create(d => d.AddWorkflow<Cleanup>());
        var handle = await host.Get<CleanupClient>().StartAsync(3, "run-1");
        await host.FinishAsync<Cleanup>(handle.WorkflowId);
        return (await handle.WaitForResultAsync()).ToString();
    }
}
