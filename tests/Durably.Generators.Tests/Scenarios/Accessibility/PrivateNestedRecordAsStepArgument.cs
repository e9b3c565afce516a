// A private record nested in the workflow, used as a step argument: generated code outside the class cannot name it.
using System.Threading.Tasks;
using Durably;

namespace Shapes;

[DurableWorkflow]
public partial class Quote
{
    [WorkflowRun]
    public async Task<decimal> RunAsync(decimal amount) => await Price(new Line(amount));

    [Step]
    private Task<decimal> Price(Line line) => Task.FromResult(line.Amount * 2);

    private sealed record Line(decimal Amount);
}
