// The user's code does not compile yet (a type not written yet): their error, and nothing from generated code.
using System.Threading.Tasks;
using Durably;

namespace Shapes;

[DurableWorkflow]
public partial class Draft
{
    [WorkflowRun]
    public async Task<string> RunAsync(string id) => await Send(new Invoice(id));

    [Step]
    public Task<string> Send(Invoice invoice) => Task.FromResult("sent");
}
