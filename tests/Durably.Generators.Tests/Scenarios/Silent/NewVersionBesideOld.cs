// Two classes of one workflow name with different versions: allowed, both run.
using System.Threading.Tasks;
using Durably;
using Durably.Generators.Tests;

namespace Shapes;

[DurableWorkflow(Name = "Onboarding", Version = 1)]
public partial class OnboardingV1
{
    [WorkflowRun]
    public async Task<string> RunAsync(string user) => await Welcome(user);

    [Step]
    public Task<string> Welcome(string user) => Task.FromResult("v1 welcome " + user);
}

[DurableWorkflow(Name = "Onboarding", Version = 2)]
public partial class OnboardingV2
{
    [WorkflowRun]
    public async Task<string> RunAsync(string user) => await Welcome(user);

    [Step]
    public Task<string> Welcome(string user) => Task.FromResult("v2 welcome " + user);
}

public static class Scenario
{
    public static async Task<string> RunAsync()
    {
        await using var host = ScenarioHost.Create(d => d.AddWorkflow<OnboardingV1>().AddWorkflow<OnboardingV2>());
        var v2 = await host.Get<OnboardingV2Client>().StartAsync("ann", "run-1");
        await host.FinishAsync<OnboardingV2>(v2.WorkflowId);
        return await v2.WaitForResultAsync();
    }
}
