// A project whose serializer options include fields silences the rule for that step: the workflow is still generated.
using System.Threading.Tasks;
using Durably;

namespace Shapes;

[DurableWorkflow]
public partial class Quote
{
    [WorkflowRun]
    public async Task<decimal> RunAsync(string sku) => (await Price(sku)).Price;

#pragma warning disable DURABLY0048 // journaled with JsonSerializerOptions { IncludeFields = true }
    [Step]
    public Task<(decimal Price, string Currency)> Price(string sku) => Task.FromResult((9.5m, "EUR"));
#pragma warning restore DURABLY0048
}

public static class Scenario
{
    public static Task<string> RunAsync() => Task.FromResult("generated: " + Quote.DurableDefinition.Name + ", " + Quote.DurableSteps.Price.Id);
}
