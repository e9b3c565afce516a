// Step ids and workflow names with quotes, backslashes, non-ASCII and XML-special characters: escaped in every literal and comment.
using System.Threading.Tasks;
using Durably;
using Durably.Generators.Tests;

namespace Shapes;

[DurableWorkflow(Name = "café \"<orders>\" & \\ co")]
public partial class Café
{
    [WorkflowRun]
    public async Task<string> RunAsync(string naïve) => await Brew(naïve);

    [Step(Id = "brew \"<double>\" & \\ ☕")]
    public Task<string> Brew(string naïve) => Task.FromResult(naïve + " ☕");
}

public static class Scenario
{
    public static async Task<string> RunAsync()
    {
        await using var host = ScenarioHost.Create(d => d.AddWorkflow<Café>());
        var handle = await host.Get<CaféClient>().StartAsync("latte", "run-1");
        await host.FinishAsync<Café>(handle.WorkflowId);
        return Café.DurableDefinition.Name + ": " + await handle.WaitForResultAsync();
    }
}
