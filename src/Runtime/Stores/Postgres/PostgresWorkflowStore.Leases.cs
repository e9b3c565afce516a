using Durably.Runtime.Journal;

namespace Durably.Runtime.Stores;

/// <summary>Who runs a run: claims, what can be claimed, unloading, renewals and release — judged by the database clock.</summary>
public sealed partial class PostgresWorkflowStore
{
    /// <inheritdoc/>
    public Task<RunLease?> TryClaimAsync(string workflowId, string owner, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        return ExecuteAsync("claim a run", async token =>
        {
            await using var command = Command(_sql.Claim,
                ("id", workflowId), ("owner", owner), ("incarnation", Incarnation(owner)), ("lease", leaseDuration), ("skew", Skew()), ("now", Utc(_time.GetUtcNow())));
            await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
            return await reader.ReadAsync(token).ConfigureAwait(false)
                ? new RunLease(workflowId, owner, reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1))
                : null;
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<ClaimBatch> ClaimRunsAsync(string owner, IReadOnlyCollection<WorkflowVersion>? runnable, IReadOnlyCollection<string> exclude, int limit,
        TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        ArgumentNullException.ThrowIfNull(exclude);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        return ExecuteAsync("claim runs", async token =>
        {
            (string, object?)[] versions = [("names", runnable?.Select(v => v.Name).ToArray()), ("versions", runnable?.Select(v => v.Version).ToArray()), ("skew", Skew())];
            // The claim renews the worker's row only when less than three quarters of its lease is left.
            var now = _time.GetUtcNow();
            var renew = !_heartbeatLeases.TryGetValue(owner, out var until) || until - now < leaseDuration * 0.75;
            await using var batch = _dataSource.CreateBatch();
            batch.BatchCommands.Add(BatchCommand(renew ? _sql.ClaimBatch : _sql.ClaimBatchWithoutHeartbeat, [.. versions, ("owner", owner), ("incarnation", Incarnation(owner)), ("lease", leaseDuration),
                ("exclude", exclude.ToArray()), ("limit", limit), ("now", Utc(now))]));
            batch.BatchCommands.Add(BatchCommand(_sql.NextClaimable, [.. versions, ("incarnation", Incarnation(owner)), ("never", Utc(RunRecord.WakeOnSignalOnly))]));
            batch.BatchCommands.Add(BatchCommand(_sql.LoadClaimedRuns, ("incarnation", Incarnation(owner)), ("now", Utc(now))));
            batch.BatchCommands.Add(BatchCommand(_sql.LoadClaimedJournals, ("incarnation", Incarnation(owner)), ("now", Utc(now))));
            await using var reader = await batch.ExecuteReaderAsync(token).ConfigureAwait(false);
            var claimed = new List<(RunLease Lease, DateTimeOffset CreatedAt)>();
            while (await reader.ReadAsync(token).ConfigureAwait(false))
            {
                claimed.Add((new RunLease(reader.GetString(0), owner, reader.GetInt64(1), reader.IsDBNull(2) ? null : reader.GetString(2)), reader.GetFieldValue<DateTimeOffset>(3)));
            }

            await reader.NextResultAsync(token).ConfigureAwait(false);
            await reader.ReadAsync(token).ConfigureAwait(false);
            var next = reader.IsDBNull(0) ? (TimeSpan?)null : reader.GetFieldValue<TimeSpan>(0);
            if (renew)
            {
                _heartbeatLeases[owner] = now + leaseDuration;
            }

            var runs = new Dictionary<string, RunRecord>(StringComparer.Ordinal);
            await reader.NextResultAsync(token).ConfigureAwait(false);
            while (await reader.ReadAsync(token).ConfigureAwait(false))
            {
                var run = ReadRun(reader);
                runs[run.WorkflowId] = run;
            }

            var journals = runs.Keys.ToDictionary(id => id, _ => new List<JournalEntry>(), StringComparer.Ordinal);
            await reader.NextResultAsync(token).ConfigureAwait(false);
            while (await reader.ReadAsync(token).ConfigureAwait(false))
            {
                var entry = ReadEntry(reader);
                if (journals.TryGetValue(entry.WorkflowId, out var journal))
                {
                    journal.Add(entry);
                }
            }

            // Only the runs this claim took, at the epoch it took them (another held run updated at the same instant is left out).
            var loaded = claimed.Where(c => runs.TryGetValue(c.Lease.WorkflowId, out var run) && run.Epoch == c.Lease.Epoch)
                .ToDictionary(c => c.Lease.WorkflowId, c => new RunSnapshot(runs[c.Lease.WorkflowId], journals[c.Lease.WorkflowId]), StringComparer.Ordinal);

            return new ClaimBatch([.. claimed.OrderBy(c => c.CreatedAt).ThenBy(c => c.Lease.WorkflowId, StringComparer.Ordinal).Select(c => c.Lease)], next, loaded);
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<string>> ListClaimableAsync(string owner, IReadOnlyCollection<WorkflowVersion>? runnable, int limit, CancellationToken cancellationToken)
        => ExecuteAsync<IReadOnlyList<string>>("list claimable runs", async token =>
        {
            await using var command = Command(_sql.ListClaimable, ("owner", owner), ("limit", limit), ("skew", Skew()),
                ("names", runnable?.Select(v => v.Name).ToArray()), ("versions", runnable?.Select(v => v.Version).ToArray()));
            await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
            var ids = new List<string>();
            while (await reader.ReadAsync(token).ConfigureAwait(false))
            {
                ids.Add(reader.GetString(0));
            }

            return ids;
        }, cancellationToken);

    /// <inheritdoc/>
    public Task<IReadOnlyList<ActiveWorkflowVersion>> ListActiveVersionsAsync(CancellationToken cancellationToken)
        => ExecuteAsync<IReadOnlyList<ActiveWorkflowVersion>>("count the active runs of each workflow version", async token =>
        {
            await using var command = Command(_sql.ActiveVersions, ("skew", Skew()));
            await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
            var versions = new List<ActiveWorkflowVersion>();
            while (await reader.ReadAsync(token).ConfigureAwait(false))
            {
                versions.Add(new ActiveWorkflowVersion(new WorkflowVersion(reader.GetString(0), reader.GetInt32(1)), reader.GetInt64(2), reader.GetInt64(3),
                    reader.GetFieldValue<DateTimeOffset>(4), reader.GetBoolean(5), reader.IsDBNull(6) ? null : reader.GetString(6)));
            }

            return versions;
        }, cancellationToken);

    /// <inheritdoc/>
    public Task AdvertiseAsync(string worker, IReadOnlyCollection<WorkflowVersion> runnable, TimeSpan ttl, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(worker);
        ArgumentNullException.ThrowIfNull(runnable);
        return ExecuteAsync("advertise a worker's workflows", async token =>
        {
            // Withdrawn (nothing to run, or no time left): no lifetime at all, rather than one that ends about now.
            var withdrawn = runnable.Count == 0 || ttl <= TimeSpan.Zero;
            await using var command = Command(_sql.Advertise, ("incarnation", Incarnation(worker)), ("owner", worker), ("skew", Skew()), ("ttl", withdrawn ? null : ttl),
                ("workflows", withdrawn ? Array.Empty<string>() : runnable.Select(v => $"{v.Name}@{v.Version}").ToArray()));
            return await command.ExecuteNonQueryAsync(token).ConfigureAwait(false);
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<DateTimeOffset?> GetNextWakeAsync(CancellationToken cancellationToken)
        => ExecuteAsync("read the next wake time", async token =>
        {
            await using var command = Command(_sql.NextWake, ("never", Utc(RunRecord.WakeOnSignalOnly)));
            return await command.ExecuteScalarAsync(token).ConfigureAwait(false) is DateTime next
                ? new DateTimeOffset(next, TimeSpan.Zero)
                : (DateTimeOffset?)null;
        }, cancellationToken);

    /// <inheritdoc/>
    public Task<SuspendOutcome> SuspendAsync(RunLease lease, DateTimeOffset wakeAt, IReadOnlyCollection<string> signalNames, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(signalNames);
        var staged = _stagedStatuses.Take(lease);
        return _stagedStatuses.Settle(staged, ExecuteAsync("unload a run", async token =>
        {
            await using var batch = _dataSource.CreateBatch();
            batch.BatchCommands.Add(BatchCommand(_sql.SuspendLock, LeaseParameters(lease)));
            batch.BatchCommands.Add(BatchCommand(_sql.Suspend,
                [.. LeaseParameters(lease), ("wake", Utc(wakeAt)), ("now", Utc(_time.GetUtcNow())), ("names", signalNames.ToArray())]));
            batch.BatchCommands.Add(BatchCommand(_sql.AwaitedChildEnded, ("id", lease.WorkflowId)));
            AddStatus(batch, lease, staged);
            await using var reader = await batch.ExecuteReaderAsync(token).ConfigureAwait(false);
            var held = await reader.ReadAsync(token).ConfigureAwait(false);
            var cancelRequested = held && reader.GetBoolean(0);
            await reader.NextResultAsync(token).ConfigureAwait(false);
            var suspended = await reader.ReadAsync(token).ConfigureAwait(false);
            await reader.NextResultAsync(token).ConfigureAwait(false);
            var childEnded = await reader.ReadAsync(token).ConfigureAwait(false) && reader.GetBoolean(0);
            return suspended ? SuspendOutcome.Suspended
                : !held ? SuspendOutcome.Fenced
                : cancelRequested ? SuspendOutcome.CancelRequested
                : childEnded ? SuspendOutcome.ChildEnded
                : SuspendOutcome.SignalWaiting;
        }, cancellationToken));
    }

    /// <inheritdoc/>
    /// <remarks>One statement: the incarnation's row in the workers table carries the lease of all its runs.</remarks>
    public Task<IReadOnlyList<HeldRun>> RenewLeasesAsync(string owner, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        return ExecuteAsync<IReadOnlyList<HeldRun>>("renew a worker's leases", async token =>
        {
            var now = _time.GetUtcNow();
            await using var command = Command(_sql.Heartbeat, ("incarnation", Incarnation(owner)), ("lease", leaseDuration), ("skew", Skew()));
            await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
            var held = new List<HeldRun>();
            while (await reader.ReadAsync(token).ConfigureAwait(false))
            {
                held.Add(new HeldRun(reader.GetString(0), reader.GetInt64(1), reader.GetBoolean(2)));
            }

            _heartbeatLeases[owner] = now + leaseDuration;

            return held;
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task ReleaseAsync(RunLease lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        var staged = _stagedStatuses.Take(lease);
        return _stagedStatuses.Settle(staged, ExecuteAsync("release a run", async token =>
        {
            await using var batch = Batch(staged, lease, BatchCommand(_sql.Release, [.. LeaseParameters(lease), ("now", Utc(_time.GetUtcNow())), ("channel", _channel)]));
            return await batch.ExecuteNonQueryAsync(token).ConfigureAwait(false);
        }, cancellationToken));
    }

    /// <summary>Until when (by this store's clock, measured before the write) each worker's row last renewed its lease.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, DateTimeOffset> _heartbeatLeases = new(StringComparer.Ordinal);

    /// <summary>This process's incarnation of worker <paramref name="owner"/>: a fresh id the first time the name is used.</summary>
    private Guid Incarnation(string owner) => _incarnations.GetOrAdd(owner, static _ => Guid.NewGuid());

    /// <summary>How far the store's clock is from the system clock: zero in production, a test clock's offset in tests.</summary>
    private TimeSpan Skew() => ReferenceEquals(_time, TimeProvider.System) ? TimeSpan.Zero : _time.GetUtcNow() - TimeProvider.System.GetUtcNow();

    private static (string, object?)[] LeaseParameters(RunLease lease) => [("id", lease.WorkflowId), ("owner", lease.Owner), ("epoch", lease.Epoch)];
}
