namespace Durably.Runtime.Stores;

/// <summary>
/// A run's end is announced (NOTIFY) only when someone watches for it — a caller in another process waiting for its
/// result — so that the many ends nobody waits for do not take PostgreSQL's database-wide notification lock at commit.
/// </summary>
/// <remarks>
/// A watcher and the run's end are ordered by one transaction-scoped advisory lock on the run's id, taken by both after
/// their own write: a watcher that takes it first has its row committed before the end looks for watchers (the end's
/// next statement sees it and notifies); an end that takes it first has committed before the watcher reads the run (the
/// watcher sees it ended and needs no notification). Neither touches the run's row, so neither delays a claim.
/// </remarks>
internal sealed partial class PostgresStatements
{
    /// <summary>Orders a watch and an end of the same run (see the remarks); held until the transaction ends.</summary>
    public const string RunEndLock = "SELECT pg_advisory_xact_lock(17527, hashtext(@id))";

    /// <summary>Marks the run watched while it runs, and reads it (after <see cref="RunEndLock"/>, in the same transaction).</summary>
    public string WatchRun { get; }

    /// <summary>After an end and <see cref="RunEndLock"/>: drops the run's watchers and, if there were any, announces the end.</summary>
    public string AnnounceEnd { get; }

    private static (string Watch, string Announce) Watches(string s, string runs)
        => ($"""
            WITH watched AS (
                INSERT INTO {s}.run_watchers (workflow_id) SELECT workflow_id FROM {s}.runs WHERE workflow_id = @id AND status = 0 ON CONFLICT DO NOTHING
            )
            SELECT {RunColumns} FROM {runs} WHERE r.workflow_id = @id
            """,
            $"""
            WITH told AS (
                DELETE FROM {s}.run_watchers w WHERE w.workflow_id = @id AND EXISTS (SELECT 1 FROM {s}.runs e WHERE e.workflow_id = @id AND e.status <> 0)
                RETURNING w.workflow_id
            )
            SELECT pg_notify(@channel, '{PostgresSchema.RunFinishedPrefix}' || CASE WHEN octet_length(workflow_id) <= 7000 THEN workflow_id ELSE '' END) FROM told
            """);
}
