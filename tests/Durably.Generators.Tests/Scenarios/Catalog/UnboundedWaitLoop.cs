// (g) An endless loop of durable waits without continue-as-new: the journal grows without end.
using System;
using System.Threading.Tasks;
using Durably;

namespace Shapes;

[DurableWorkflow]
public partial class Wrong
{
    [WorkflowRun]
    public async Task RunAsync(string site)
    {
        while (true)
        {
            await Check(site);
            await Workflow.SleepAsync(TimeSpan.FromMinutes(5));
        }
    }

    [Step]
    public Task Check(string site) => Task.CompletedTask;
}

[DurableWorkflow]
public partial class Right
{
    [WorkflowRun]
    public async Task RunAsync(int pass)
    {
        for (var i = 0; ; i++)
        {
            await Check(pass + i);
            await Workflow.SleepAsync(TimeSpan.FromMinutes(5));
            if (i == 100)
            {
                throw Workflow.ContinueAsNew(pass + i);
            }
        }
    }

    [Step]
    public Task Check(int pass) => Task.CompletedTask;
}

[DurableWorkflow]
public partial class AlsoRight
{
    [WorkflowRun]
    public async Task RunAsync()
    {
        while (true)
        {
            var stop = await WaitForStop(TimeSpan.FromHours(1));
            if (stop.IsReceived)
            {
                break;
            }
        }
    }

    [Signal]
    private partial Task<SignalResult<bool>> WaitForStop(TimeSpan timeout);
}
