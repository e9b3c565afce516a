using Durably.Runtime.Journal;
using static Durably.Runtime.Stores.SqliteCommands;

namespace Durably.Runtime.Stores;

/// <summary>Who runs a run: claims, what can be claimed, unloading, renewals and release.</summary>
public sealed partial class SqliteWorkflowStore
{
    /// <inheritdoc/>
    public Task<RunLease?> TryClaimAsync(string workflowId, string owner, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        return WriteAsync<RunLease?>(connection =>
        {
            var now = _time.GetUtcNow();
            // The holder before the claim, read in the same write transaction: a claimed run it still held is recovered.
            var previous = Query(connection, "SELECT owner FROM runs WHERE workflow_id = $id;", r => r.IsDBNull(0) ? null : r.GetString(0), ("$id", workflowId));
            var epoch = Query(connection, """
                UPDATE runs SET owner = $owner, epoch = epoch + 1, lease_expires_at = $expires, updated_at = $now, wake_at = NULL
                WHERE workflow_id = $id AND status = 0 AND (owner IS NULL OR owner = $owner OR lease_expires_at <= $now)
                RETURNING epoch;
                """, r => r.GetInt64(0),
                ("$id", workflowId), ("$owner", owner), ("$expires", ToUnixMs(now + leaseDuration)), ("$now", ToUnixMs(now)));
            return epoch.Count == 1 ? new RunLease(workflowId, owner, epoch[0], previous[0]) : null;
        }, cancellationToken);
    }

    /// <summary>Unowned and not unloaded (or due), already $owner's (a restarted worker), or with an expired lease.</summary>
    private const string Claimable = "((owner IS NULL AND (wake_at IS NULL OR wake_at <= $now)) OR owner = $owner OR lease_expires_at <= $now)";

    /// <summary>Of a workflow version in $runnable, a JSON array [{"n": name, "v": version}, …]; any when $runnable is null.</summary>
    private const string OfRunnable = "($runnable IS NULL OR (workflow_name, version) IN (SELECT json_extract(value, '$.n'), json_extract(value, '$.v') FROM json_each($runnable)))";

    private static string? RunnableJson(IReadOnlyCollection<WorkflowVersion>? runnable)
        => runnable is null ? null : System.Text.Json.JsonSerializer.Serialize(runnable.Select(v => new { n = v.Name, v = v.Version }));

    /// <inheritdoc/>
    public Task<ClaimBatch> ClaimRunsAsync(string owner, IReadOnlyCollection<WorkflowVersion>? runnable, IReadOnlyCollection<string> exclude, int limit,
        TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        ArgumentNullException.ThrowIfNull(exclude);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        return WriteAsync(connection =>
        {
            var now = ToUnixMs(_time.GetUtcNow());
            (string, object?)[] parameters = [("$owner", owner), ("$now", now), ("$runnable", RunnableJson(runnable))];
            // One write transaction, one sync to disk, for the whole batch.
            var candidates = Query(connection, $"""
                SELECT workflow_id, owner FROM runs
                WHERE status = 0 AND {Claimable} AND {OfRunnable} AND workflow_id NOT IN (SELECT value FROM json_each($exclude))
                ORDER BY created_at, workflow_id LIMIT $limit;
                """, r => (Id: r.GetString(0), Previous: r.IsDBNull(1) ? null : r.GetString(1)),
                [.. parameters, ("$exclude", System.Text.Json.JsonSerializer.Serialize(exclude)), ("$limit", limit)]);
            var claimed = new List<RunLease>(candidates.Count);
            foreach (var (id, previous) in candidates)
            {
                var epoch = Query(connection, """
                    UPDATE runs SET owner = $owner, epoch = epoch + 1, lease_expires_at = $expires, updated_at = $now, wake_at = NULL
                    WHERE workflow_id = $id RETURNING epoch;
                    """, r => r.GetInt64(0), ("$id", id), ("$owner", owner), ("$expires", now + (long)leaseDuration.TotalMilliseconds), ("$now", now))[0];
                claimed.Add(new RunLease(id, owner, epoch, previous));
            }

            // What could become claimable later: an unloaded run falling due, another worker's lease expiring.
            var next = Query(connection, $"""
                SELECT min(at) FROM (
                    SELECT min(wake_at) AS at FROM runs WHERE status = 0 AND owner IS NULL AND wake_at > $now AND wake_at < $never AND {OfRunnable}
                    UNION ALL
                    SELECT min(lease_expires_at) FROM runs WHERE status = 0 AND owner <> $owner AND lease_expires_at > $now AND {OfRunnable});
                """, r => r.IsDBNull(0) ? (long?)null : r.GetInt64(0), [.. parameters, ("$never", ToUnixMs(RunRecord.WakeOnSignalOnly))])[0];
            // Read in the claim's transaction, after it: what the executions start from.
            var loaded = claimed.ToDictionary(c => c.WorkflowId, c => new RunSnapshot(ReadRun(connection, c.WorkflowId)!, ReadJournal(connection, c.WorkflowId)), StringComparer.Ordinal);
            return new ClaimBatch(claimed, next is { } at ? TimeSpan.FromMilliseconds(at - now) : null, loaded);
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<HeldRun>> RenewLeasesAsync(string owner, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        return WriteAsync<IReadOnlyList<HeldRun>>(connection =>
        {
            var now = _time.GetUtcNow();
            return Query(connection, """
                UPDATE runs SET lease_expires_at = $expires, updated_at = $now WHERE owner = $owner AND status = 0
                RETURNING workflow_id, epoch, cancel_reason IS NOT NULL;
                """, r => new HeldRun(r.GetString(0), r.GetInt64(1), r.GetBoolean(2)),
                ("$owner", owner), ("$expires", ToUnixMs(now + leaseDuration)), ("$now", ToUnixMs(now)));
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<string>> ListClaimableAsync(string owner, IReadOnlyCollection<WorkflowVersion>? runnable, int limit, CancellationToken cancellationToken)
    {
        return Read<IReadOnlyList<string>>(connection => Query(connection,
            $"SELECT workflow_id FROM runs WHERE status = 0 AND {Claimable} AND {OfRunnable} ORDER BY created_at, workflow_id LIMIT $limit;",
            r => r.GetString(0), ("$owner", owner), ("$now", ToUnixMs(_time.GetUtcNow())), ("$limit", limit), ("$runnable", RunnableJson(runnable))),
            cancellationToken);
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<ActiveWorkflowVersion>> ListActiveVersionsAsync(CancellationToken cancellationToken)
    {
        return Read<IReadOnlyList<ActiveWorkflowVersion>>(connection => Query(connection, """
            SELECT workflow_name, version, count(*),
                sum(CASE WHEN (owner IS NULL AND (wake_at IS NULL OR wake_at <= $now)) OR lease_expires_at <= $now THEN 1 ELSE 0 END),
                min(created_at),
                EXISTS (SELECT 1 FROM workers w, json_each(w.workflows) j WHERE w.expires_at > $now AND j.value = workflow_name || '@' || version),
                fingerprint
            FROM runs WHERE status = 0
            GROUP BY workflow_name, version, fingerprint
            ORDER BY workflow_name, version, fingerprint;
            """, r => new ActiveWorkflowVersion(new WorkflowVersion(r.GetString(0), r.GetInt32(1)), r.GetInt64(2), r.GetInt64(3), FromUnixMs(r.GetInt64(4)), r.GetBoolean(5),
                r.IsDBNull(6) ? null : r.GetString(6)),
            ("$now", ToUnixMs(_time.GetUtcNow()))), cancellationToken);
    }

    /// <inheritdoc/>
    public Task AdvertiseAsync(string worker, IReadOnlyCollection<WorkflowVersion> runnable, TimeSpan ttl, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(worker);
        ArgumentNullException.ThrowIfNull(runnable);
        return WriteAsync(connection => Execute(connection, """
            INSERT INTO workers (name, workflows, expires_at) VALUES ($name, $workflows, $until)
            ON CONFLICT (name) DO UPDATE SET workflows = excluded.workflows, expires_at = excluded.expires_at;
            """, ("$name", worker), ("$workflows", System.Text.Json.JsonSerializer.Serialize(runnable.Select(v => $"{v.Name}@{v.Version}"))),
            ("$until", ttl <= TimeSpan.Zero ? 0L : ToUnixMs(_time.GetUtcNow() + ttl))), cancellationToken);
    }

    /// <inheritdoc/>
    public Task<DateTimeOffset?> GetNextWakeAsync(CancellationToken cancellationToken)
    {
        return Read(connection => Query(connection, "SELECT min(wake_at) FROM runs WHERE status = 0 AND wake_at IS NOT NULL AND wake_at < $never AND owner IS NULL;",
            r => r.IsDBNull(0) ? (DateTimeOffset?)null : FromUnixMs(r.GetInt64(0)), ("$never", ToUnixMs(RunRecord.WakeOnSignalOnly)))[0], cancellationToken);
    }

    /// <inheritdoc/>
    public Task<SuspendOutcome> SuspendAsync(RunLease lease, DateTimeOffset wakeAt, IReadOnlyCollection<string> signalNames, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(signalNames);
        return WriteAsync(lease, JournalDurability.Durable, connection =>
        {
            switch (Held(connection, lease))
            {
                case null:
                    return SuspendOutcome.Fenced;
                case true:
                    return SuspendOutcome.CancelRequested;
            }

            // Names go in as one JSON array: any number of them, each a bound value.
            if (Query(connection,
                "SELECT 1 FROM signals WHERE workflow_id = $id AND taken_by_sequence IS NULL AND name IN (SELECT value FROM json_each($names)) LIMIT 1;",
                r => r.GetInt64(0), ("$id", lease.WorkflowId), ("$names", System.Text.Json.JsonSerializer.Serialize(signalNames))).Count == 1)
            {
                return SuspendOutcome.SignalWaiting;
            }

            if (AwaitedChildEnded(connection, lease.WorkflowId))
            {
                return SuspendOutcome.ChildEnded;
            }

            Execute(connection, $"UPDATE runs SET owner = NULL, lease_expires_at = NULL, wake_at = $wake, updated_at = $now WHERE {HeldBy};",
                [.. LeaseParameters(lease), ("$wake", ToUnixMs(wakeAt)), ("$now", ToUnixMs(_time.GetUtcNow()))]);
            return SuspendOutcome.Suspended;
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task ReleaseAsync(RunLease lease, CancellationToken cancellationToken)
        => WriteAsync(lease, JournalDurability.Durable, connection => Execute(connection,
            $"UPDATE runs SET owner = NULL, lease_expires_at = NULL, updated_at = $now WHERE {HeldBy};",
            [.. LeaseParameters(lease), ("$now", ToUnixMs(_time.GetUtcNow()))]), cancellationToken);
}
