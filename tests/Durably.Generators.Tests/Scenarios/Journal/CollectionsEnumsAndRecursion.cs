// Read-only collection interfaces, enums, nullables, dates and a recursive record: all round-trip.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Durably;
using Durably.Generators.Tests;

namespace Shapes;

public enum Priority { Low, High }

public sealed record Node(string Name, IReadOnlyList<Node> Children);

public sealed record Plan(Node Root, IReadOnlyDictionary<string, Priority> Priorities, DateTimeOffset? Due, Guid Id, int[] Counts);

[DurableWorkflow]
public partial class Planner
{
    [WorkflowRun]
    public async Task<string> RunAsync(string name)
    {
        var plan = await Make(name);
        return plan.Root.Children[0].Name + " " + plan.Priorities["a"] + " " + plan.Due!.Value.Year + " " + plan.Counts.Sum();
    }

    [Step]
    public Task<Plan> Make(string name) => Task.FromResult(new Plan(
        new Node(name, [new Node(name + "-child", [])]),
        new Dictionary<string, Priority> { ["a"] = Priority.High },
        new DateTimeOffset(2030, 1, 2, 0, 0, 0, TimeSpan.Zero),
        Guid.Empty,
        [1, 2, 3]));
}

public static class Scenario
{
    public static async Task<string> RunAsync()
    {
        await using var host = ScenarioHost.Create(d => d.AddWorkflow<Planner>());
        var handle = await host.Get<PlannerClient>().StartAsync("p", "run-1");
        await host.FinishAsync<Planner>(handle.WorkflowId);
        return await handle.WaitForResultAsync();
    }
}
