// (c) The Workflow API inside a step body: it failed only at run time.
using System;
using System.Threading.Tasks;
using Durably;

namespace Shapes;

[DurableWorkflow]
public partial class Wrong
{
    [WorkflowRun]
    public async Task<string> RunAsync(string id) => await Stamp(id);

    [Step]
    public async Task<string> Stamp(string id)
    {
        await Workflow.SleepAsync(TimeSpan.FromSeconds(1));
        return id + Workflow.Now.ToString("O");
    }
}

[DurableWorkflow]
public partial class Right
{
    [WorkflowRun]
    public async Task<string> RunAsync(string id)
    {
        await Workflow.SleepAsync(TimeSpan.FromSeconds(1));
        return await Stamp(id, Workflow.Now);
    }

    [Step]
    public Task<string> Stamp(string id, DateTimeOffset at) => Task.FromResult(id + at.ToString("O") + StepContext.Current!.IdempotencyKey);
}
