// [WorkflowRun] and [Step] on a class that forgot [DurableWorkflow].
using System.Threading.Tasks;
using Durably;

namespace Shapes;

public partial class Forgotten
{
    [WorkflowRun]
    public async Task<string> RunAsync(string id) => await Work(id);

    [Step]
    public Task<string> Work(string id) => Task.FromResult(id);
}
