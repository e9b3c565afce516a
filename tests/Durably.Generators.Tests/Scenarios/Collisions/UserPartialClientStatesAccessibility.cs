// The user's partial part of the client states the accessibility (internal), and the generated part follows it.
using System.Threading.Tasks;
using Durably;
using Durably.Generators.Tests;

namespace Shapes;

internal sealed partial class ReportClient
{
    public Task<WorkflowHandle<string>> DailyAsync() => StartAsync("daily", "report-daily");
}

[DurableWorkflow]
public partial class Report
{
    [WorkflowRun]
    public async Task<string> RunAsync(string kind) => await Render(kind);

    [Step]
    public Task<string> Render(string kind) => Task.FromResult(kind + " report");
}

public static class Scenario
{
    public static async Task<string> RunAsync()
    {
        await using var host = ScenarioHost.Create(d => d.AddWorkflow<Report>());
        var handle = await host.Get<ReportClient>().DailyAsync();
        await host.FinishAsync<Report>(handle.WorkflowId);
        return await handle.WaitForResultAsync() + " (client " + (typeof(ReportClient).IsPublic ? "public" : "internal") + ")";
    }
}
