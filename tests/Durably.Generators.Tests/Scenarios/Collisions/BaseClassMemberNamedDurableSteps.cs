// A plain base class (not a workflow) with public members named like Durably's: Durably's are numbered, nothing hidden.
using System.Threading.Tasks;
using Durably;
using Durably.Generators.Tests;

namespace Shapes;

public abstract class WorkflowBase
{
    public string DurableSteps => "base steps";

    public static string DurableDefinition() => "base definition";
}

[DurableWorkflow]
public partial class Audit : WorkflowBase
{
    [WorkflowRun]
    public async Task<string> RunAsync(string item) => await Check(item) + ", " + DurableSteps + ", " + DurableDefinition();

    [Step]
    public Task<string> Check(string item) => Task.FromResult("checked " + item);
}

public static class Scenario
{
    public static async Task<string> RunAsync()
    {
        await using var host = ScenarioHost.Create(d => d.AddWorkflow<Audit>());
        var handle = await host.Get<AuditClient>().StartAsync("i", "run-1");
        await host.FinishAsync<Audit>(handle.WorkflowId);
        return await handle.WaitForResultAsync();
    }
}
