
namespace Durably.Runtime.Tests.Architecture.Violations;

// Deliberate breaches of the walls, for WallTests.The_rules_find_a_deliberate_violation: never used.

/// <summary>An "engine" type that names the PostgreSQL driver.</summary>
internal sealed class EngineTypeUsingNpgsql
{
    public Npgsql.NpgsqlConnection? Connection { get; set; }
}

/// <summary>An "engine" type that calls into a store implementation.</summary>
internal static class EngineTypeUsingTheSqliteStore
{
    public static object Open(string path) => global::Durably.Runtime.Stores.SqliteWorkflowStore.Open(path);
}

/// <summary>An "engine" type that names a store's own type (as the step loop once named PostgresStepTransaction).</summary>
internal sealed class EngineTypeUsingThePostgresTransaction
{
    public PostgresStepTransaction? Transaction { get; set; }
}

/// <summary>A "store" type that names the hosted worker.</summary>
internal static class StoreTypeUsingTheWorker
{
    public static Type Worker => typeof(global::Durably.Runtime.Hosting.DurableWorker);
}
