// (a) An injected service awaited directly in the run method: it ran again on every replay, and replay saw another
// value. The fix calls it from a step.
using System.Threading.Tasks;
using Durably;

namespace Shapes;

public interface IPricing
{
    Task<decimal> QuoteAsync(string sku);
}

[DurableWorkflow]
public partial class Wrong
{
    private readonly IPricing _pricing;

    public Wrong(IPricing pricing) => _pricing = pricing;

    [WorkflowRun]
    public async Task<decimal> RunAsync(string sku)
    {
        var price = await _pricing.QuoteAsync(sku);
        return await Charge(price);
    }

    [Step]
    public Task<decimal> Charge(decimal amount) => Task.FromResult(amount);
}

[DurableWorkflow]
public partial class Right
{
    private readonly IPricing _pricing;

    public Right(IPricing pricing) => _pricing = pricing;

    [WorkflowRun]
    public async Task<decimal> RunAsync(string sku)
    {
        var price = await Quote(sku);
        await Task.WhenAll(Charge(price), Charge(price + 1));
        await Workflow.SleepAsync(System.TimeSpan.FromSeconds(1));
        return await Helpers.TwiceAsync(this, price);
    }

    [Step]
    public Task<decimal> Quote(string sku) => _pricing.QuoteAsync(sku);

    [Step]
    public Task<decimal> Charge(decimal amount) => Task.FromResult(amount);
}

public static class Helpers
{
    public static Task<decimal> TwiceAsync(Right workflow, decimal amount) => Task.FromResult(amount * 2);
}
