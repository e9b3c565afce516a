// A signal method and its timeout parameter named with keywords.
using System;
using System.Threading.Tasks;
using Durably;
using Durably.Generators.Tests;

namespace Shapes;

public sealed record Decision(bool Approved);

[DurableWorkflow]
public partial class Approval
{
    [WorkflowRun]
    public async Task<string> RunAsync(string request)
    {
        var answer = await @checked(TimeSpan.FromMinutes(5));
        return await Record(request, answer.IsReceived && answer.Payload!.Approved);
    }

    [Signal(Name = "decision")]
    private partial Task<SignalResult<Decision>> @checked(TimeSpan @default);

    [Step]
    public Task<string> Record(string request, bool approved) => Task.FromResult(request + (approved ? " approved" : " refused"));
}

public static class Scenario
{
    public static async Task<string> RunAsync()
    {
        await using var host = ScenarioHost.Create(d => d.AddWorkflow<Approval>());
        var client = host.Get<ApprovalClient>();
        var handle = await client.StartAsync("leave", "run-1");
        await client.SignalcheckedAsync(handle.WorkflowId, new Decision(true));
        await host.FinishAsync<Approval>(handle.WorkflowId);
        return await handle.WaitForResultAsync();
    }
}
