// An 'object' run input: it reads back as a JsonElement.
using System.Threading.Tasks;
using Durably;

namespace Shapes;

[DurableWorkflow]
public partial class Anything
{
    [WorkflowRun]
    public async Task<string> RunAsync(object input) => await Describe(input.ToString() ?? "");

    [Step]
    public Task<string> Describe(string text) => Task.FromResult(text);
}
