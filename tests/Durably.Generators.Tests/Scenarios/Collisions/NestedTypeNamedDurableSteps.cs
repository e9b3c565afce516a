// The user's own nested type and field take the names of Durably's step table and definition: Durably's are numbered.
using System.Linq;
using System.Threading.Tasks;
using Durably;
using Durably.Generators.Tests;

namespace Shapes;

[DurableWorkflow]
public partial class Ledger
{
    internal static readonly string DurableDefinition = "the user's";

    [WorkflowRun]
    public async Task<string> RunAsync(int amount) => await Post(new DurableSteps(amount)) + " " + DurableDefinition;

    [Step]
    public Task<string> Post(DurableSteps entry) => Task.FromResult("posted " + entry.Amount);

    public sealed record DurableSteps(int Amount);
}

public static class Scenario
{
    public static async Task<string> RunAsync()
    {
        await using var host = ScenarioHost.Create(d => d.AddWorkflow<Ledger>());
        var handle = await host.Get<LedgerClient>().StartAsync(7, "run-1");
        await host.FinishAsync<Ledger>(handle.WorkflowId);
        return await handle.WaitForResultAsync() + " (table: " + typeof(Ledger).GetNestedTypes(System.Reflection.BindingFlags.NonPublic).Single(t => t.Name.StartsWith("DurableSteps", System.StringComparison.Ordinal)).Name + ")";
    }
}
