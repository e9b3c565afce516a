// Computed properties (recomputed, nothing lost), get-only properties bound by a constructor, init setters: round-trip.
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Durably;
using Durably.Generators.Tests;

namespace Shapes;

public sealed class Cart
{
    public Cart(string owner, IReadOnlyList<int> prices)
    {
        Owner = owner;
        Prices = prices;
    }

    public string Owner { get; }

    public IReadOnlyList<int> Prices { get; }

    public string? Note { get; init; }

    public int Total => Prices.Sum();
}

[DurableWorkflow]
public partial class Checkout
{
    [WorkflowRun]
    public async Task<string> RunAsync(string owner)
    {
        var cart = await Fill(owner);
        return cart.Owner + " " + cart.Total + " " + cart.Note;
    }

    [Step]
    public Task<Cart> Fill(string owner) => Task.FromResult(new Cart(owner, [2, 3]) { Note = "gift" });
}

public static class Scenario
{
    public static async Task<string> RunAsync()
    {
        await using var host = ScenarioHost.Create(d => d.AddWorkflow<Checkout>());
        var handle = await host.Get<CheckoutClient>().StartAsync("ann", "run-1");
        await host.FinishAsync<Checkout>(handle.WorkflowId);
        return await handle.WaitForResultAsync();
    }
}
