// A step named like the record Durably generates for another step's arguments (Reserve -> ReserveInput).
using System.Threading.Tasks;
using Durably;
using Durably.Generators.Tests;

namespace Shapes;

[DurableWorkflow]
public partial class Stock
{
    [WorkflowRun]
    public async Task<string> RunAsync(string sku) => await Reserve(sku) + await ReserveInput(sku);

    [Step]
    public Task<string> Reserve(string sku) => Task.FromResult("r:" + sku);

    [Step]
    public Task<string> ReserveInput(string sku) => Task.FromResult(" i:" + sku);
}

public static class Scenario
{
    public static async Task<string> RunAsync()
    {
        await using var host = ScenarioHost.Create(d => d.AddWorkflow<Stock>());
        var handle = await host.Get<StockClient>().StartAsync("sku-1", "run-1");
        await host.FinishAsync<Stock>(handle.WorkflowId);
        return await handle.WaitForResultAsync();
    }
}
