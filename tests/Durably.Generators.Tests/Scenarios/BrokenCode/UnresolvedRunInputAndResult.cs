// Unresolved run input and step result types.
using System.Threading.Tasks;
using Durably;

namespace Shapes;

[DurableWorkflow]
public partial class Sketch
{
    [WorkflowRun]
    public async Task<Receipt> RunAsync(Request request) => await Make(request);

    [Step]
    public Task<Receipt> Make(Request request) => Task.FromResult<Receipt>(null!);
}
