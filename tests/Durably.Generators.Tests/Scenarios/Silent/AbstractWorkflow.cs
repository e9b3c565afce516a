// An abstract class marked as a workflow: the engine could never create it.
using System.Threading.Tasks;
using Durably;

namespace Shapes;

[DurableWorkflow]
public abstract partial class Billing
{
    [WorkflowRun]
    public async Task<string> RunAsync(string id) => await Charge(id);

    [Step]
    protected abstract Task<string> Charge(string id);
}
