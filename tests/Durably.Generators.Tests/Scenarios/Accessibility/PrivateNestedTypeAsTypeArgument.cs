// A private nested type inside a collection argument.
using System.Collections.Generic;
using System.Threading.Tasks;
using Durably;

namespace Shapes;

[DurableWorkflow]
public partial class Basket
{
    [WorkflowRun]
    public async Task<int> RunAsync(int count) => await Total([new Line(count)]);

    [Step]
    private Task<int> Total(List<Line> lines) => Task.FromResult(lines.Count);

    private sealed record Line(int Quantity);
}
