// Overloaded steps (numbered members in the step table) beside a real step named like one of the numbers.
using System.Threading.Tasks;
using Durably;
using Durably.Generators.Tests;

namespace Shapes;

[DurableWorkflow]
public partial class Billing
{
    [WorkflowRun]
    public async Task<string> RunAsync(int amount) => await Pay(amount) + await Pay("eur") + await Pay_1();

    [Step(Id = "pay-amount")]
    public Task<string> Pay(int amount) => Task.FromResult("a" + amount);

    [Step(Id = "pay-currency")]
    public Task<string> Pay(string currency) => Task.FromResult(" c" + currency);

    [Step]
    public Task<string> Pay_1() => Task.FromResult(" one");
}

public static class Scenario
{
    public static async Task<string> RunAsync()
    {
        await using var host = ScenarioHost.Create(d => d.AddWorkflow<Billing>());
        var handle = await host.Get<BillingClient>().StartAsync(5, "run-1");
        await host.FinishAsync<Billing>(handle.WorkflowId);
        return await handle.WaitForResultAsync();
    }
}
