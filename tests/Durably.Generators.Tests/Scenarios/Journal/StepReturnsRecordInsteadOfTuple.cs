// The fix for a tuple result: a record, which survives the journal and replays.
using System.Threading.Tasks;
using Durably;
using Durably.Generators.Tests;

namespace Shapes;

public sealed record PriceTag(decimal Price, string Currency);

[DurableWorkflow]
public partial class Quote
{
    [WorkflowRun]
    public async Task<string> RunAsync(string sku)
    {
        var tag = await Price(sku);
        return tag.Price + " " + tag.Currency;
    }

    [Step]
    public Task<PriceTag> Price(string sku) => Task.FromResult(new PriceTag(9.5m, "EUR"));
}

public static class Scenario
{
    public static async Task<string> RunAsync()
    {
        await using var host = ScenarioHost.Create(d => d.AddWorkflow<Quote>());
        var handle = await host.Get<QuoteClient>().StartAsync("sku", "run-1");
        await host.FinishAsync<Quote>(handle.WorkflowId);
        return await handle.WaitForResultAsync();
    }
}
