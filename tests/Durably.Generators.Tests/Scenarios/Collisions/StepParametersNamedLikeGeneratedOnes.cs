// Step parameters named like the generated code's own parameters and locals: @this, workflow, input, cancellationToken
// (not a token), options.
using System.Threading.Tasks;
using Durably;
using Durably.Generators.Tests;

namespace Shapes;

[DurableWorkflow]
public partial class Names
{
    [WorkflowRun]
    public async Task<string> RunAsync(string input) => await Join(input, "w", 2, "token", "o");

    [Step]
    public Task<string> Join(string @this, string workflow, int input, string cancellationToken, string options)
        => Task.FromResult(string.Join("|", @this, workflow, input, cancellationToken, options));
}

public static class Scenario
{
    public static async Task<string> RunAsync()
    {
        await using var host = ScenarioHost.Create(d => d.AddWorkflow<Names>());
        var handle = await host.Get<NamesClient>().StartAsync("a", "run-1");
        await host.FinishAsync<Names>(handle.WorkflowId);
        return await handle.WaitForResultAsync();
    }
}
