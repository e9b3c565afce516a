using System.Collections.Concurrent;
using System.Diagnostics;

namespace Durably.Runtime.Tests.Support;

/// <summary>What a PostgreSQL store sends, from Npgsql's own tracing: one activity per command or batch, so one per round trip.</summary>
internal static class SentStatements
{
    /// <summary>Records the text of every command or batch sent for <paramref name="schema"/> (every store statement names its schema).</summary>
    public static ActivityListener Listen(string schema, ConcurrentQueue<string> sent)
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.GetTagItem("db.query.text") is string text && text.Contains(schema, StringComparison.Ordinal))
                {
                    sent.Enqueue(text);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }

    /// <summary>Takes what <paramref name="sent"/> holds so far.</summary>
    public static string[] Take(ConcurrentQueue<string> sent)
    {
        var taken = new List<string>();
        while (sent.TryDequeue(out var statement))
        {
            taken.Add(statement);
        }

        return [.. taken];
    }

    /// <summary>The worker's heartbeat or advertisement: statements a timer sends, not an execution.</summary>
    public static bool IsWorkerTimer(string statement)
        => statement.Contains("SELECT workflow_id, epoch, cancel_reason IS NOT NULL FROM", StringComparison.Ordinal)
            || (statement.Contains("advertised_until", StringComparison.Ordinal) && statement.TrimStart().StartsWith("INSERT INTO", StringComparison.Ordinal));
}
