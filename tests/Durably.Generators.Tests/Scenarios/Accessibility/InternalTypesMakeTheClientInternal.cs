// A public workflow whose run takes an internal type: the client cannot be public, and is internal instead.
using System.Threading.Tasks;
using Durably;
using Durably.Generators.Tests;

namespace Shapes;

internal sealed record Secret(string Value);

[DurableWorkflow]
public partial class Vault
{
    [WorkflowRun]
    internal async Task<string> RunAsync(Secret secret) => await Seal(secret);

    [Step]
    internal Task<string> Seal(Secret secret) => Task.FromResult("sealed " + secret.Value);
}

public static class Scenario
{
    public static async Task<string> RunAsync()
    {
        await using var host = ScenarioHost.Create(d => d.AddWorkflow<Vault>());
        var handle = await host.Get<VaultClient>().StartAsync(new Secret("s"), "run-1");
        await host.FinishAsync<Vault>(handle.WorkflowId);
        return await handle.WaitForResultAsync() + " (client " + (typeof(VaultClient).IsPublic ? "public" : "internal") + ")";
    }
}
