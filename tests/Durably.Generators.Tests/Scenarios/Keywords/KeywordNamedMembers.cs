// Keyword-named workflow, run method, steps, parameters and namespace, escaped with @ in the user's code.
using System.Threading.Tasks;
using Durably;
using Durably.Generators.Tests;

namespace @event.@class;

public sealed record @record(string @string);

[DurableWorkflow]
public partial class @object
{
    [WorkflowRun]
    public async Task<string> @return(@record @in) => await @class(@in.@string, 1) + await @do(@in);

    [Step]
    public Task<string> @class(string @event, int @int) => Task.FromResult(@event + @int);

    [Step]
    public Task<string> @do(@record @params) => Task.FromResult("/" + @params.@string);
}

public static class Scenario
{
    public static async Task<string> RunAsync()
    {
        await using var host = ScenarioHost.Create(d => d.AddWorkflow<@object>());
        var handle = await host.Get<objectClient>().StartAsync(new @record("x"), "run-1");
        await host.FinishAsync<@object>(handle.WorkflowId);
        return await handle.WaitForResultAsync();
    }
}
