using Durably.Runtime.Journal;

namespace Durably.Runtime.Stores;

/// <summary>
/// The <c>WHERE</c> conditions of a page of runs (<see cref="IWorkflowStore.ListRunsAsync"/>) for the SQL stores: only
/// the conditions asked for, each value bound as a parameter, the keyset position as a row comparison on
/// <c>(created_at, workflow_id)</c> — the order the runs' index serves. Each store says how it spells the rest.
/// </summary>
/// <param name="Conditions">The conditions, to join with <c>AND</c>; empty when nothing filters.</param>
/// <param name="Parameters">Their values, and the page's <c>limit</c>.</param>
internal sealed record RunListFilter(IReadOnlyList<string> Conditions, IReadOnlyList<(string Name, object? Value)> Parameters)
{
    /// <summary>The conditions as a <c>WHERE</c> clause with a leading space, or empty.</summary>
    public string Where => Conditions.Count == 0 ? "" : " WHERE " + string.Join(" AND ", Conditions);

    /// <summary>Builds the filter of <paramref name="query"/> in one store's dialect.</summary>
    /// <param name="query">What to list.</param>
    /// <param name="dialect">How the store names columns and parameters and keeps statuses and times.</param>
    public static RunListFilter For(RunListQuery query, RunListDialect dialect)
    {
        ArgumentNullException.ThrowIfNull(query);
        var conditions = new List<string>();
        var parameters = new List<(string, object?)>();
        Bind("limit", query.Limit);
        if (query.WorkflowName is { } name)
        {
            conditions.Add($"{dialect.Columns}workflow_name = {Bind("name", name)}");
        }

        if (query.Status is { } status)
        {
            conditions.Add($"{dialect.Columns}status = {Bind("status", dialect.Status(status))}");
        }

        if (query.Version is { } version)
        {
            conditions.Add($"{dialect.Columns}version = {Bind("version", version)}");
        }

        if (query.InstanceKey is { } key)
        {
            conditions.Add($"{dialect.Columns}instance_key = {Bind("instance_key", key)}");
        }

        if (query.CreatedFrom is { } from)
        {
            conditions.Add($"{dialect.Columns}created_at >= {Bind("from", dialect.Time(from))}");
        }

        if (query.CreatedBefore is { } before)
        {
            conditions.Add($"{dialect.Columns}created_at < {Bind("before", dialect.Time(before))}");
        }

        if (query.After is { } after)
        {
            conditions.Add($"({dialect.Columns}created_at, {dialect.Columns}workflow_id) < ({Bind("after_created", dialect.Time(after.CreatedAt))}, {Bind("after_id", after.WorkflowId)})");
        }

        return new RunListFilter(conditions, parameters);

        string Bind(string parameter, object? value)
        {
            parameters.Add((dialect.ParameterName(parameter), value));
            return dialect.Placeholder + parameter;
        }
    }
}

/// <summary>How a SQL store spells a run filter.</summary>
/// <param name="Placeholder">What precedes a parameter in SQL text (<c>$</c>, <c>@</c>).</param>
/// <param name="ParameterPrefix">What precedes a parameter's name when it is bound (<c>$</c> for SQLite, nothing for Npgsql).</param>
/// <param name="Columns">What precedes a column name (a table alias and a dot, or nothing).</param>
/// <param name="Status">How a status is stored.</param>
/// <param name="Time">How a time is stored.</param>
internal sealed record RunListDialect(string Placeholder, string ParameterPrefix, string Columns, Func<WorkflowStatus, object> Status, Func<DateTimeOffset, object> Time)
{
    public string ParameterName(string parameter) => ParameterPrefix + parameter;
}
