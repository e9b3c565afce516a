// A protected internal (and an internal) type nested in the workflow: the rest of the assembly can name them, so they work.
using System.Threading.Tasks;
using Durably;
using Durably.Generators.Tests;

namespace Shapes;

[DurableWorkflow]
public partial class Pack
{
    [WorkflowRun]
    internal async Task<Box> RunAsync(Item item) => await Wrap(item);

    [Step]
    private Task<Box> Wrap(Item item) => Task.FromResult(new Box(item.Name + " in a box"));

    protected internal sealed record Item(string Name);

    internal sealed record Box(string Label);
}

public static class Scenario
{
    public static async Task<string> RunAsync()
    {
        await using var host = ScenarioHost.Create(d => d.AddWorkflow<Pack>());
        var handle = await host.Get<PackClient>().StartAsync(new Pack.Item("cup"), "run-1");
        await host.FinishAsync<Pack>(handle.WorkflowId);
        return (await handle.WaitForResultAsync()).Label;
    }
}
