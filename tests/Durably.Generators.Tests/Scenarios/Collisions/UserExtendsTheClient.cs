// The generated client is partial on purpose: a user's partial declaration adds to it.
using System.Threading.Tasks;
using Durably;
using Durably.Generators.Tests;

namespace Shapes;

public sealed partial class ParcelClient
{
    public Task<WorkflowHandle<string>> ShipAsync(string id) => StartAsync(id, "ship-" + id);
}

[DurableWorkflow]
public partial class Parcel
{
    [WorkflowRun]
    public async Task<string> RunAsync(string id) => await Ship(id);

    [Step]
    public Task<string> Ship(string id) => Task.FromResult("shipped " + id);
}

public static class Scenario
{
    public static async Task<string> RunAsync()
    {
        await using var host = ScenarioHost.Create(d => d.AddWorkflow<Parcel>());
        var handle = await host.Get<ParcelClient>().ShipAsync("p1");
        await host.FinishAsync<Parcel>(handle.WorkflowId);
        return handle.WorkflowId + ": " + await handle.WaitForResultAsync();
    }
}
