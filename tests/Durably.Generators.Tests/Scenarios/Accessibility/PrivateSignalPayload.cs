// A private nested type as a signal's payload: the client's send method cannot name it.
using System;
using System.Threading.Tasks;
using Durably;

namespace Shapes;

[DurableWorkflow]
public partial class Gate
{
    [WorkflowRun]
    public async Task<bool> RunAsync() => (await WaitForOpen(TimeSpan.FromHours(1))).IsReceived;

    [Signal]
    private partial Task<SignalResult<Opening>> WaitForOpen(TimeSpan timeout);

    private sealed record Opening(string By);
}
