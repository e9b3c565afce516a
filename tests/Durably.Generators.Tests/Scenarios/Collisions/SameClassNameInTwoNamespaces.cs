// Two workflows with the same class name in different namespaces (and one in the global namespace).
using System.Threading.Tasks;
using Durably;
using Durably.Generators.Tests;

namespace Eu
{
    [DurableWorkflow(Name = "eu-invoice")]
    public partial class Invoice
    {
        [WorkflowRun]
        public async Task<string> RunAsync(int amount) => await Bill(amount);

        [Step]
        public Task<string> Bill(int amount) => Task.FromResult("EUR " + amount);
    }
}

namespace Us
{
    [DurableWorkflow(Name = "us-invoice")]
    public partial class Invoice
    {
        [WorkflowRun]
        public async Task<string> RunAsync(int amount) => await Bill(amount);

        [Step]
        public Task<string> Bill(int amount) => Task.FromResult("USD " + amount);
    }
}

[DurableWorkflow(Name = "global-invoice")]
public partial class Invoice
{
    [WorkflowRun]
    public async Task<string> RunAsync(int amount) => await Bill(amount);

    [Step]
    public Task<string> Bill(int amount) => Task.FromResult("XDR " + amount);
}

public static class Scenario
{
    public static async Task<string> RunAsync()
    {
        await using var host = ScenarioHost.Create(d => d.AddWorkflow<Eu.Invoice>().AddWorkflow<Us.Invoice>().AddWorkflow<Invoice>());
        var eu = await host.Get<Eu.InvoiceClient>().StartAsync(1, "run-1");
        var us = await host.Get<Us.InvoiceClient>().StartAsync(2, "run-2");
        var global = await host.Get<InvoiceClient>().StartAsync(3, "run-3");
        await host.FinishAsync<Eu.Invoice>(eu.WorkflowId);
        await host.FinishAsync<Us.Invoice>(us.WorkflowId);
        await host.FinishAsync<Invoice>(global.WorkflowId);
        return string.Join(", ", await eu.WaitForResultAsync(), await us.WaitForResultAsync(), await global.WaitForResultAsync());
    }
}
