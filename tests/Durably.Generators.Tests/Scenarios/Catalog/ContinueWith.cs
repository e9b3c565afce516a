// (i) ContinueWith in the run method: the continuation runs on the thread pool, off the run's scheduler.
using System.Threading.Tasks;
using Durably;

namespace Shapes;

[DurableWorkflow]
public partial class Wrong
{
    [WorkflowRun]
    public async Task<string> RunAsync(string id) => await Load(id).ContinueWith(t => t.Result + "!");

    [Step]
    public Task<string> Load(string id) => Task.FromResult(id);
}

[DurableWorkflow]
public partial class Right
{
    [WorkflowRun]
    public async Task<string> RunAsync(string id) => await Load(id) + "!";

    [Step]
    public Task<string> Load(string id) => Task.FromResult(id);
}
