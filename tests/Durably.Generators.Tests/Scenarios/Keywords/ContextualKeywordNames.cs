// Contextual keywords (var, async, await, value, record, file, scoped, required) as names need no @, and must still work.
using System.Threading.Tasks;
using Durably;
using Durably.Generators.Tests;

namespace Shapes;

[DurableWorkflow]
public partial class async
{
    [WorkflowRun]
    public async Task<string> RunAsync(string value) => await var(value, "f") + await record(2);

    [Step]
    public Task<string> var(string value, string file) => Task.FromResult(value + file);

    [Step]
    public Task<string> record(int required) => Task.FromResult("#" + required);
}

public static class Scenario
{
    public static async Task<string> RunAsync()
    {
        await using var host = ScenarioHost.Create(d => d.AddWorkflow<async>());
        var handle = await host.Get<asyncClient>().StartAsync("v", "run-1");
        await host.FinishAsync<async>(handle.WorkflowId);
        return await handle.WaitForResultAsync();
    }
}
