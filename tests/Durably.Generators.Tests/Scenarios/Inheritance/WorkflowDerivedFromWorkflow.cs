// A workflow deriving from another workflow: the derived one's generated members hide the base's on purpose.
using System.Threading.Tasks;
using Durably;
using Durably.Generators.Tests;

namespace Shapes;

[DurableWorkflow]
public partial class Greeting
{
    [WorkflowRun]
    public virtual async Task<string> RunAsync(string name) => await Hello(name);

    [Step]
    public Task<string> Hello(string name) => Task.FromResult("hello " + name);
}

[DurableWorkflow(Name = "LoudGreeting")]
public partial class LoudGreeting : Greeting
{
    [WorkflowRun]
    public override async Task<string> RunAsync(string name) => await Shout("hello " + name);

    [Step]
    public Task<string> Shout(string text) => Task.FromResult(text.ToUpperInvariant());
}

public static class Scenario
{
    public static async Task<string> RunAsync()
    {
        await using var host = ScenarioHost.Create(d => d.AddWorkflow<Greeting>().AddWorkflow<LoudGreeting>());
        var plain = await host.Get<GreetingClient>().StartAsync("ann", "run-1");
        var loud = await host.Get<LoudGreetingClient>().StartAsync("bob", "run-2");
        await host.FinishAsync<Greeting>(plain.WorkflowId);
        await host.FinishAsync<LoudGreeting>(loud.WorkflowId);
        return await plain.WaitForResultAsync() + ", " + await loud.WaitForResultAsync();
    }
}
