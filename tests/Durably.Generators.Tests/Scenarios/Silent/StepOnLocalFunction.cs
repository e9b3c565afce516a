// [Step] on a local function: compiles, and was never journaled (its body ran on every replay).
using System.Threading.Tasks;
using Durably;

namespace Shapes;

[DurableWorkflow]
public partial class Mailer
{
    [WorkflowRun]
    public async Task<string> RunAsync(string to)
    {
        [Step]
        Task<string> Send(string address) => Task.FromResult("sent to " + address);

        return await Send(to);
    }
}
