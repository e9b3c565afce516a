// A syntax error in the run method's body, as while typing: only the compiler's error.
using System.Threading.Tasks;
using Durably;

namespace Shapes;

[DurableWorkflow]
public partial class Typing
{
    [WorkflowRun]
    public async Task<string> RunAsync(string text)
    {
        var a = await Echo(text)
        return a;
    }

    [Step]
    public Task<string> Echo(string text) => Task.FromResult(text);
}
