// A tuple deep inside the run's input: the path to it is named.
using System.Collections.Generic;
using System.Threading.Tasks;
using Durably;

namespace Shapes;

public sealed record Order(string Id, List<Line> Lines);

public sealed record Line(string Sku, (int Quantity, decimal Price) Amount);

[DurableWorkflow]
public partial class Fulfil
{
    [WorkflowRun]
    public async Task<int> RunAsync(Order order) => await Count(order.Id);

    [Step]
    public Task<int> Count(string id) => Task.FromResult(id.Length);
}
