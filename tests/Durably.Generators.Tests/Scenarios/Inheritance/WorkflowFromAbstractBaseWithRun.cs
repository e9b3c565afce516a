// A workflow deriving from a plain abstract base class that holds shared helpers (not steps).
using System.Threading.Tasks;
using Durably;
using Durably.Generators.Tests;

namespace Shapes;

public abstract class Helpers
{
    protected static string Prefix(string text) => "[" + text + "]";
}

[DurableWorkflow]
public partial class Tagging : Helpers
{
    [WorkflowRun]
    public async Task<string> RunAsync(string text) => Prefix(await Tag(text));

    [Step]
    public Task<string> Tag(string text) => Task.FromResult(text + "#");
}

public static class Scenario
{
    public static async Task<string> RunAsync()
    {
        await using var host = ScenarioHost.Create(d => d.AddWorkflow<Tagging>());
        var handle = await host.Get<TaggingClient>().StartAsync("t", "run-1");
        await host.FinishAsync<Tagging>(handle.WorkflowId);
        return await handle.WaitForResultAsync();
    }
}
