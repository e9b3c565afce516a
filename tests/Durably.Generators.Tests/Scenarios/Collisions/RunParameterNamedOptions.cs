// A run parameter named like the generated client's own StartAsync parameters (options, workflowId, cancellationToken).
using System.Threading.Tasks;
using Durably;
using Durably.Generators.Tests;

namespace Shapes;

public sealed record Settings(string Mode);

[DurableWorkflow]
public partial class Configure
{
    [WorkflowRun]
    public async Task<string> RunAsync(Settings options) => await Apply(options.Mode);

    [Step]
    public Task<string> Apply(string mode) => Task.FromResult("applied " + mode);
}

public static class Scenario
{
    public static async Task<string> RunAsync()
    {
        await using var host = ScenarioHost.Create(d => d.AddWorkflow<Configure>());
        var handle = await host.Get<ConfigureClient>().StartAsync(new Settings("fast"), "run-1");
        await host.FinishAsync<Configure>(handle.WorkflowId);
        return await handle.WaitForResultAsync();
    }
}
