// A user type named like the client Durably would generate (OrderClient beside workflow Order).
using System.Threading.Tasks;
using Durably;

namespace Shapes;

public sealed class OrderClient
{
    public string Name => "the user's own";
}

[DurableWorkflow]
public partial class Order
{
    [WorkflowRun]
    public async Task<string> RunAsync(string id) => await Place(id);

    [Step]
    public Task<string> Place(string id) => Task.FromResult(id);
}
