// A partial record marked as a workflow.
using System.Threading.Tasks;
using Durably;

namespace Shapes;

[DurableWorkflow]
public partial record Refund(string Reason)
{
    [WorkflowRun]
    public async Task<string> RunAsync(string id) => await Pay(id);

    [Step]
    public Task<string> Pay(string id) => Task.FromResult(id);
}
