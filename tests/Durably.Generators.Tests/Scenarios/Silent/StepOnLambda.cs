// [Step] on a lambda.
using System;
using System.Threading.Tasks;
using Durably;

namespace Shapes;

[DurableWorkflow]
public partial class Pinger
{
    [WorkflowRun]
    public async Task<string> RunAsync(string host)
    {
        Func<string, Task<string>> ping = [Step] (string h) => Task.FromResult("pong from " + h);
        return await ping(host);
    }
}
