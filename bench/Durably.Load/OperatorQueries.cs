using System.Diagnostics;
using Durably.Runtime.Journal;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Durably.Load;

/// <summary>
/// The queries an operator's pages make (overview counts, the first page of runs, a filtered page, dead letters), on a
/// store holding <c>runs</c> runs across ten workflows and 30 days: 1 % running, 2 % failed, 0.5 % dead-lettered,
/// the rest completed. The runs are written by SQL in bulk (the engine's path is measured by the other workloads).
/// Each figure is the median of 21 calls, in ms.
/// </summary>
internal static class OperatorQueries
{
    public static async Task<List<(string Figure, double Value)>> RunAsync(BenchTarget target, int runs)
    {
        var services = new ServiceCollection();
        services.AddDurably(target.Configure);
        await using var provider = services.BuildServiceProvider();
        var store = provider.GetRequiredService<IWorkflowStore>();
        await store.GetRunAsync("schema", CancellationToken.None);
        await FillAsync(target.Locator, runs);

        var statistics = (IWorkflowStoreStatistics)store;
        foreach (var worker in new[] { "ops-worker-a", "ops-worker-b", "ops-worker-c" })
        {
            await store.AdvertiseAsync(worker, [new WorkflowVersion("Workflow1", 1)], TimeSpan.FromMinutes(5), CancellationToken.None);
        }

        var client = provider.GetRequiredService<IDurableClient>();
        var hourAgo = DateTimeOffset.UtcNow.AddHours(-1);
        return
        [
            ("operators: count all runs (ms)", await MedianAsync(() => statistics.CountRunsAsync(null, CancellationToken.None))),
            ("operators: count ended in last hour (ms)", await MedianAsync(() => statistics.CountRunsAsync(hourAgo, CancellationToken.None))),
            ("operators: count ended in last day (ms)", await MedianAsync(() => statistics.CountRunsAsync(hourAgo.AddHours(-23), CancellationToken.None))),
            ("operators: runs page 1, 50 (ms)", await MedianAsync(() => client.ListRunsAsync(new WorkflowRunQuery { PageSize = 50 }, CancellationToken.None))),
            ("operators: runs of a workflow, failed (ms)", await MedianAsync(() => client.ListRunsAsync(new WorkflowRunQuery { WorkflowName = "Workflow3", Status = WorkflowStatus.Failed, PageSize = 50 }, CancellationToken.None))),
            ("operators: versions, drain view (ms)", await MedianAsync(() => client.ListWorkflowVersionsAsync(CancellationToken.None))),
            ("operators: run details, 0 steps (ms)", await MedianAsync(() => client.GetRunDetailsAsync("ops-4242", CancellationToken.None))),
            ("operators: workers (ms)", await MedianAsync(() => statistics.ListWorkersAsync(CancellationToken.None))),
            ("operators: dead letters page 1 (ms)", await MedianAsync(() => client.ListDeadLettersAsync(new WorkflowRunQuery { PageSize = 50 }, CancellationToken.None))),
            .. await DashboardPages.RunAsync(target),
        ];
    }

    internal static async Task<double> MedianAsync<T>(Func<Task<T>> query)
    {
        await query();
        var times = new double[21];
        for (var i = 0; i < times.Length; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await query();
            times[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }

        Array.Sort(times);
        return times[times.Length / 2];
    }

    private static async Task FillAsync(string locator, int runs)
    {
        var now = DateTimeOffset.UtcNow;
        var (kind, where) = (locator.Split(':', 2)[0], locator.Split(':', 2)[1]);
        if (kind == "postgres")
        {
            await using var connection = new NpgsqlConnection(where);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"""
                INSERT INTO durably.runs (workflow_id, workflow_name, version, input_json, status, epoch, created_at, updated_at, error_type, error_message)
                SELECT 'ops-' || g, 'Workflow' || (g % 10), 1, @input, {Status("g")}, 1,
                    @now - (g * @spacing), @now - (g * @spacing) + interval '3 seconds',
                    CASE WHEN g % 50 = 1 OR g % 200 = 3 THEN 'System.Exception' END, CASE WHEN g % 50 = 1 OR g % 200 = 3 THEN 'it failed' END
                FROM generate_series(1, @runs) g
                """, connection);
            command.Parameters.AddWithValue("input", "{}");
            command.Parameters.AddWithValue("now", now);
            command.Parameters.AddWithValue("spacing", TimeSpan.FromDays(30) / runs);
            command.Parameters.AddWithValue("runs", runs);
            await command.ExecuteNonQueryAsync();
            // Statistics and the visibility map, as autovacuum would leave them: index-only scans need the latter.
            await using var vacuum = new NpgsqlCommand("VACUUM ANALYZE durably.runs", connection);
            await vacuum.ExecuteNonQueryAsync();
            return;
        }

        await using var sqlite = new SqliteConnection($"Data Source={where}");
        await sqlite.OpenAsync();
        await using var transaction = sqlite.BeginTransaction();
        await using var insert = new SqliteCommand("""
            INSERT INTO runs (workflow_id, workflow_name, version, input_json, status, epoch, created_at, updated_at, error_type, error_message)
            VALUES ($id, $name, 1, '{}', $status, 1, $created, $created + 3000, $error_type, $error_message)
            """, sqlite, transaction);
        foreach (var name in new[] { "$id", "$name", "$status", "$created", "$error_type", "$error_message" })
        {
            insert.Parameters.Add(new SqliteParameter(name, null));
        }

        var spacing = (long)(TimeSpan.FromDays(30) / runs).TotalMilliseconds;
        for (var g = 1; g <= runs; g++)
        {
            var status = g % 100 == 0 ? 0 : g % 50 == 1 ? 2 : g % 200 == 3 ? 3 : 1;
            insert.Parameters[0].Value = "ops-" + g;
            insert.Parameters[1].Value = "Workflow" + (g % 10);
            insert.Parameters[2].Value = status;
            insert.Parameters[3].Value = now.ToUnixTimeMilliseconds() - (g * spacing);
            insert.Parameters[4].Value = status is 2 or 3 ? "System.Exception" : DBNull.Value;
            insert.Parameters[5].Value = status is 2 or 3 ? "it failed" : DBNull.Value;
            await insert.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
        await using var analyze = new SqliteCommand("ANALYZE;", sqlite);
        await analyze.ExecuteNonQueryAsync();
    }

    /// <summary>1 % running, 2 % failed, 0.5 % dead-lettered, the rest completed (the same in both stores).</summary>
    private static string Status(string g)
        => $"CASE WHEN {g} % 100 = 0 THEN 0 WHEN {g} % 50 = 1 THEN 2 WHEN {g} % 200 = 3 THEN 3 ELSE 1 END";
}
