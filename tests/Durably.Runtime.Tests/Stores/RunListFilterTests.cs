using Durably.Runtime.Journal;
using Durably.Runtime.Stores;

namespace Durably.Runtime.Tests.Stores;

/// <summary>The one run-list filter both SQL stores build their page queries from, in each store's spelling.</summary>
public sealed class RunListFilterTests
{
    private static readonly RunListDialect s_sqlite = new("$", "$", "", static status => (int)status, static time => time.ToUnixTimeMilliseconds());
    private static readonly RunListDialect s_postgres = new("@", "", "r.", static status => (short)status, static time => time.ToUniversalTime());

    [Fact]
    public void No_filter_is_no_where_clause_and_only_the_limit()
    {
        var filter = RunListFilter.For(new RunListQuery(null, null, null, null, null, 51), s_sqlite);

        Assert.Equal("", filter.Where);
        Assert.Equal([("$limit", (object?)51)], filter.Parameters);
    }

    [Fact]
    public void Every_condition_is_bound_never_spliced_in_each_store_s_spelling()
    {
        var from = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
        var query = new RunListQuery("Orders'; DROP TABLE runs; --", WorkflowStatus.DeadLettered, from, from.AddDays(1), (from.AddHours(3), "order-7"), 11);

        var sqlite = RunListFilter.For(query, s_sqlite);
        var postgres = RunListFilter.For(query, s_postgres);

        Assert.Equal(
            " WHERE workflow_name = $name AND status = $status AND created_at >= $from AND created_at < $before AND (created_at, workflow_id) < ($after_created, $after_id)",
            sqlite.Where);
        Assert.Equal(
            " WHERE r.workflow_name = @name AND r.status = @status AND r.created_at >= @from AND r.created_at < @before AND (r.created_at, r.workflow_id) < (@after_created, @after_id)",
            postgres.Where);
        Assert.DoesNotContain("DROP", sqlite.Where, StringComparison.Ordinal);
        Assert.Equal(("$name", (object?)"Orders'; DROP TABLE runs; --"), sqlite.Parameters[1]);
        Assert.Equal(("status", (object?)(short)3), postgres.Parameters[2]);
        Assert.Equal(("$from", (object?)from.ToUnixTimeMilliseconds()), sqlite.Parameters[3]);
        Assert.Equal(("after_id", (object?)"order-7"), postgres.Parameters[^1]);
    }
}
