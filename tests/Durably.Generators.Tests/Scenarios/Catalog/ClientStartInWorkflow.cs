// (i) A run method that starts another workflow's run through a client: nothing journaled, so a replay starts it again.
using System.Threading.Tasks;
using Durably;

namespace Shapes;

[DurableWorkflow]
public partial class Shipment
{
    [WorkflowRun]
    public async Task<string> RunAsync(string parcel) => await Ship(parcel);

    [Step]
    public Task<string> Ship(string parcel) => Task.FromResult(parcel);
}

[DurableWorkflow]
public partial class Wrong(IDurableClient client, ShipmentClient shipments)
{
    [WorkflowRun]
    public async Task<string> RunAsync(string parcel)
    {
        await client.StartAsync(Shipment.DurableDefinition, parcel, "ship-1");
        var handle = await shipments.StartAsync(parcel, "ship-2");
        return handle.WorkflowId;
    }
}

[DurableWorkflow]
public partial class Right(ShipmentClient shipments)
{
    [WorkflowRun]
    public async Task<string> RunAsync(string parcel) => await shipments.RunAsChildAsync(parcel) + await Workflow.RunChildAsync(Shipment.DurableDefinition, parcel);
}
