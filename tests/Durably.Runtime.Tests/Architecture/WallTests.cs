using ArchUnitNET.Domain;
using ArchUnitNET.Fluent;
using ArchUnitNET.Fluent.Syntax.Elements.Types;
using ArchUnitNET.Loader;
using static ArchUnitNET.Fluent.ArchRuleDefinition;

namespace Durably.Runtime.Tests.Architecture;

/// <summary>
/// The walls of DESIGN.md §11 inside the runtime assembly, checked on its compiled types (ArchUnitNET reads every
/// field, signature, call and attribute): the engine never names a store's type or its database driver, and stores
/// never name the hosting part. The engine is every type of the assembly except the stores (namespace
/// <c>Durably.Runtime.Stores</c> and below), hosting (<c>Durably.Runtime.Hosting</c> and <c>AddDurably</c>'s namespace)
/// and a store's front door — a public type named for its store (<c>UseSqlite</c>'s <c>SqliteDurableOptionsExtensions</c>,
/// <c>PostgresStepTransaction</c>) which lives in the store's folder under the namespace users already import.
/// </summary>
public sealed class WallTests
{
    private const string StoreNamespaces = @"^Durably\.Runtime\.Stores(\..+)?$";
    private const string HostingNamespaces = @"^(Durably\.Runtime\.Hosting(\..+)?|Microsoft\.Extensions\.DependencyInjection)$";
    private const string DatabaseDrivers = @"^(Npgsql|NpgsqlTypes|Microsoft\.Data\.Sqlite|SQLitePCL)(\..+)?$";
    private static readonly string[] s_storeNames = ["Sqlite", "Postgres", "InMemory"];

    private static readonly System.Reflection.Assembly s_runtime = typeof(DurableEngine).Assembly;

    private static readonly Lazy<ArchUnitNET.Domain.Architecture> s_architecture = new(() => new ArchLoader()
        .LoadAssemblies(s_runtime, typeof(WallTests).Assembly, typeof(Npgsql.NpgsqlConnection).Assembly, typeof(Microsoft.Data.Sqlite.SqliteConnection).Assembly)
        .Build());

    [Fact]
    public void The_engine_names_no_store_type_and_no_database_driver()
    {
        var violations = FailuresOf(EngineMustNotKnowStores(EngineTypes()));
        Assert.True(violations.Count == 0, "The engine reaches past the store interface:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void Stores_name_nothing_of_hosting()
    {
        var violations = FailuresOf(StoresMustNotKnowHosting(StoreTypes()));
        Assert.True(violations.Count == 0, "A store reaches into hosting:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void The_parts_hold_the_types_they_should()
    {
        var architecture = s_architecture.Value;
        var engine = EngineTypes().GetObjects(architecture).Select(t => t.FullName).ToList();
        var stores = StoreTypes().GetObjects(architecture).Select(t => t.FullName).ToList();
        Assert.Contains(typeof(DurableEngine).FullName!, engine);
        Assert.Contains(engine, name => name.StartsWith("Durably.Runtime.Replay.RunExecution`3", StringComparison.Ordinal));
        Assert.Contains(typeof(DurableOptions).FullName!, engine);
        Assert.Contains(typeof(global::Durably.Runtime.Stores.SqliteWorkflowStore).FullName!, stores);
        Assert.Contains(typeof(PostgresDurableOptionsExtensions).FullName!, stores);
        Assert.Contains(typeof(PostgresStepTransaction).FullName!, stores);
        Assert.DoesNotContain(typeof(PostgresStepTransaction).FullName!, engine);
    }

    [Fact]
    public void The_rules_find_a_deliberate_violation()
    {
        // Types in this file's Violations namespace break both walls on purpose: the rules must report each of them.
        var engine = FailuresOf(EngineMustNotKnowStores(Types().That().ResideInNamespace(typeof(Violations.EngineTypeUsingNpgsql).Namespace!)));
        Assert.Contains(engine, v => v.Contains(nameof(Violations.EngineTypeUsingNpgsql), StringComparison.Ordinal));
        Assert.Contains(engine, v => v.Contains(nameof(Violations.EngineTypeUsingTheSqliteStore), StringComparison.Ordinal));
        Assert.Contains(engine, v => v.Contains(nameof(Violations.EngineTypeUsingThePostgresTransaction), StringComparison.Ordinal));
        var stores = FailuresOf(StoresMustNotKnowHosting(Types().That().ResideInNamespace(typeof(Violations.EngineTypeUsingNpgsql).Namespace!)));
        Assert.Contains(stores, v => v.Contains(nameof(Violations.StoreTypeUsingTheWorker), StringComparison.Ordinal));
    }

    private static IObjectProvider<IType> EngineTypes()
    {
        var types = Types().That().ResideInAssembly(s_runtime)
            .And().DoNotResideInNamespaceMatching(StoreNamespaces)
            .And().DoNotResideInNamespaceMatching(HostingNamespaces);
        foreach (var store in s_storeNames)
        {
            types = types.And().DoNotHaveNameStartingWith(store);
        }

        return types;
    }

    // ArchUnitNET combines conditions left to right, without precedence: each predicate below is written in that order.
    private static IObjectProvider<IType> StoreTypes()
        => StoreNamed(Types().That().ResideInNamespaceMatching(StoreNamespaces)).And().ResideInAssembly(s_runtime);

    /// <summary><paramref name="types"/>, or a type named for a store.</summary>
    private static GivenTypesConjunction StoreNamed(GivenTypesConjunction types)
    {
        foreach (var store in s_storeNames)
        {
            types = types.Or().HaveNameStartingWith(store);
        }

        return types;
    }

    private static IArchRule EngineMustNotKnowStores(IObjectProvider<IType> engine)
        => Types().That().Are(engine).Should().NotDependOnAny(StoreNamed(Types().That().ResideInNamespaceMatching(StoreNamespaces).Or().ResideInNamespaceMatching(HostingNamespaces))
                .And().ResideInAssembly(s_runtime)
                .Or().ResideInNamespaceMatching(DatabaseDrivers))
            .Because("DESIGN.md §11: the engine talks to the store interface only");

    private static IArchRule StoresMustNotKnowHosting(IObjectProvider<IType> stores)
        => Types().That().Are(stores).Should().NotDependOnAny(
            Types().That().ResideInAssembly(s_runtime).And().ResideInNamespaceMatching(HostingNamespaces))
            .Because("DESIGN.md §11: Stores never reach Hosting");

    private static List<string> FailuresOf(IArchRule rule)
        => [.. rule.Evaluate(s_architecture.Value).Where(result => !result.Passed).Select(result => result.Description)];
}
