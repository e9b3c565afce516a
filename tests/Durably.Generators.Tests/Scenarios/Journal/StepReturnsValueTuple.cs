// A step returning a value tuple: System.Text.Json journals it as {} (tuple items are fields), and replay got defaults.
using System.Threading.Tasks;
using Durably;

namespace Shapes;

[DurableWorkflow]
public partial class Quote
{
    [WorkflowRun]
    public async Task<string> RunAsync(string sku)
    {
        var (price, currency) = await Price(sku);
        return price + " " + currency;
    }

    [Step]
    public Task<(decimal Price, string Currency)> Price(string sku) => Task.FromResult((9.5m, "EUR"));
}
