// A signal payload type not written yet.
using System;
using System.Threading.Tasks;
using Durably;

namespace Shapes;

[DurableWorkflow]
public partial class Waiting
{
    [WorkflowRun]
    public async Task<bool> RunAsync() => (await WaitForGo(TimeSpan.FromHours(1))).IsReceived;

    [Signal]
    private partial Task<SignalResult<Go>> WaitForGo(TimeSpan timeout);
}
