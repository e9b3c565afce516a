// A run method also marked [Step]: one clear diagnostic, not "no journal row" for the steps it calls.
using System.Threading.Tasks;
using Durably;

namespace Shapes;

[DurableWorkflow]
public partial class Double
{
    [WorkflowRun]
    [Step]
    public async Task<string> RunAsync(string id) => await Save(id);

    [Step]
    public Task<string> Save(string id) => Task.FromResult(id);
}
