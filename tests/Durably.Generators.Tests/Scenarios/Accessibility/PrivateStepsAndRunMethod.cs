// Private run method and private steps with public types: the usual shape, and it works.
using System.Threading.Tasks;
using Durably;
using Durably.Generators.Tests;

namespace Shapes;

[DurableWorkflow]
public partial class Digest
{
    [WorkflowRun]
    private async Task<string> RunAsync(string topic) => await Summarize(await Collect(topic));

    [Step]
    private Task<string[]> Collect(string topic) => Task.FromResult(new[] { topic + "-1", topic + "-2" });

    [Step]
    private Task<string> Summarize(string[] items) => Task.FromResult(string.Join("+", items));
}

public static class Scenario
{
    public static async Task<string> RunAsync()
    {
        await using var host = ScenarioHost.Create(d => d.AddWorkflow<Digest>());
        var handle = await host.Get<DigestClient>().StartAsync("news", "run-1");
        await host.FinishAsync<Digest>(handle.WorkflowId);
        return await handle.WaitForResultAsync();
    }
}
