// A workflow calling a step its base workflow declares: not journaled in the derived workflow, so reported.
using System.Threading.Tasks;
using Durably;

namespace Shapes;

[DurableWorkflow]
public partial class Greeting
{
    [WorkflowRun]
    public virtual async Task<string> RunAsync(string name) => await Hello(name);

    [Step]
    public Task<string> Hello(string name) => Task.FromResult("hello " + name);
}

[DurableWorkflow(Name = "LoudGreeting")]
public partial class LoudGreeting : Greeting
{
    [WorkflowRun]
    public override async Task<string> RunAsync(string name) => (await Hello(name)).ToUpperInvariant();
}
