using Durably;
using Durably.Runtime;
using Microsoft.Extensions.DependencyInjection;

var services = new ServiceCollection();
services.AddDurably().AddWorkflow<Greeter>();
await using var provider = services.BuildServiceProvider();

var handle = await provider.GetRequiredService<GreeterClient>().StartAsync("world", "packaged-1");
await provider.GetRequiredService<DurableEngine>().ExecuteAsync(handle.WorkflowId);
Console.WriteLine(await handle.WaitForResultAsync());

await using (var host = await Durably.Testing.DurableTestHost.StartAsync(workflows => workflows.AddWorkflow<Greeter>()))
{
    Console.WriteLine("test host: " + await host.RunToCompletionAsync<GreeterClient, string>(client => client.StartAsync("kit", "packaged-2")));
}

[DurableWorkflow]
public partial class Greeter
{
    [WorkflowRun]
    public async Task<string> RunAsync(string name) => await Greet(name);

    // Private on purpose: the generated invoker lives in the partial class, so private steps work.
    [Step]
    private Task<string> Greet(string name)
    {
        // Only set when the call went through the generated interceptor and the engine.
        var step = StepContext.Current ?? throw new InvalidOperationException("Greet was called directly: the step call was not intercepted.");
        return Task.FromResult($"hello {name} from step {step.StepId} with key {step.IdempotencyKey}");
    }
}
