// A [Step] written as an extension method of the workflow.
using System.Threading.Tasks;
using Durably;

namespace Shapes;

[DurableWorkflow]
public partial class Shipment
{
    [WorkflowRun]
    public async Task<string> RunAsync(string id) => await this.Label(id);
}

public static class ShipmentSteps
{
    [Step]
    public static Task<string> Label(this Shipment shipment, string id) => Task.FromResult("label " + id);
}
