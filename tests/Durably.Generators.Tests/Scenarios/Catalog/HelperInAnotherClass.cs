// (e) A determinism mistake inside a static helper of another class, called from the run method: reported in the
// helper, with the chain from the run method.
using System;
using System.Threading.Tasks;
using Durably;

namespace Shapes;

public static class Ids
{
    public static string Next(string prefix) => prefix + Guid.NewGuid().ToString("N");

    public static string Stamp(string id) => id + "@" + Clock.Read();

    public static string Safe(string prefix) => prefix + Workflow.NewGuid().ToString("N");
}

internal static class Clock
{
    public static DateTime Read() => DateTime.UtcNow;
}

[DurableWorkflow]
public partial class Orders
{
    [WorkflowRun]
    public async Task<string> RunAsync(string prefix) => await Save(Ids.Stamp(Ids.Next(prefix)) + Ids.Safe(prefix));

    [Step]
    public Task<string> Save(string id) => Task.FromResult(id + Ids.Next("step-"));
}
