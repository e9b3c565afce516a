// A file-local workflow class: its generated part would have to be in the same file.
using System.Threading.Tasks;
using Durably;

namespace Shapes;

[DurableWorkflow]
file partial class Local
{
    [WorkflowRun]
    public async Task<string> RunAsync(string text) => await Echo(text);

    [Step]
    public Task<string> Echo(string text) => Task.FromResult(text);
}
