using ArchUnitNET.Loader;
using Durably.Runtime;
using static ArchUnitNET.Fluent.ArchRuleDefinition;

namespace Durably.Dashboard.Tests;

/// <summary>
/// The dashboard is a client of the runtime's public surface (<see cref="DurableOperator"/>, <see cref="IDurableClient"/>):
/// it never names a store, the worker or the replay engine, nor a database driver, so it works on any store.
/// </summary>
public sealed class WallTests
{
    [Fact]
    public void The_dashboard_names_no_store_no_hosting_no_replay_and_no_database_driver()
    {
        var dashboard = typeof(DurablyDashboardOptions).Assembly;
        var architecture = new ArchLoader().LoadAssemblies(dashboard, typeof(DurableEngine).Assembly).Build();
        var rule = Types().That().ResideInAssembly(dashboard).Should().NotDependOnAny(
            Types().That().ResideInNamespaceMatching(@"^Durably\.Runtime\.(Stores|Hosting|Replay)(\..+)?$"));

        var failures = rule.Evaluate(architecture).Where(r => !r.Passed).Select(r => r.Description).ToList();

        Assert.True(failures.Count == 0, "The dashboard reaches past the runtime's client surface:\n" + string.Join("\n", failures));
        Assert.DoesNotContain(dashboard.GetReferencedAssemblies(), a => a.Name is "Npgsql" or "Microsoft.Data.Sqlite" or "SQLitePCLRaw.core");
        Assert.NotEmpty(Types().That().ResideInAssembly(dashboard).GetObjects(architecture));
    }
}
