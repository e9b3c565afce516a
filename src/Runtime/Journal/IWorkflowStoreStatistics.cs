namespace Durably.Runtime.Journal;

/// <summary>
/// Counts for operators — a dashboard's overview, a CLI summary — answered from indexes, never by reading run rows one
/// by one. The built-in stores implement it; a store that does not is shown without counts.
/// </summary>
public interface IWorkflowStoreStatistics
{
    /// <summary>
    /// Counts runs by workflow and status: every run in the store when <paramref name="finishedSince"/> is
    /// <see langword="null"/>; otherwise only the runs that ended (any status but <see cref="WorkflowStatus.Running"/>)
    /// at or after it — the window a throughput and a failure rate are computed over.
    /// </summary>
    /// <param name="finishedSince">The window's start; null for all runs.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>One row per workflow and status that has runs, ordered by status, then workflow name (ordinal).</returns>
    Task<IReadOnlyList<RunCount>> CountRunsAsync(DateTimeOffset? finishedSince, CancellationToken cancellationToken);

    /// <summary>
    /// The workers the store knows of — every one that advertised what it runs, live or not — with what they advertise,
    /// until when, their last heartbeat and lease where the store keeps them, and how many active runs each holds.
    /// </summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>One row per worker name, ordered by name (ordinal).</returns>
    Task<IReadOnlyList<WorkerRecord>> ListWorkersAsync(CancellationToken cancellationToken);
}

/// <summary>A worker as the store knows it (see <see cref="IWorkflowStoreStatistics.ListWorkersAsync"/>).</summary>
/// <param name="Name">The worker's name (<c>DurableOptions.WorkerName</c>).</param>
/// <param name="Workflows">The workflow versions it advertised it can run.</param>
/// <param name="AdvertisedUntil">When its advertisement lapses unless renewed (a live worker renews it); null when withdrawn.</param>
/// <param name="HeartbeatAt">Its last heartbeat, where the store keeps one per worker (PostgreSQL); else null.</param>
/// <param name="LeaseExpiresAt">When its lease on its runs lapses unless renewed: the worker's own (PostgreSQL), or the latest of its runs' leases; null when it holds none.</param>
/// <param name="RunsHeld">How many active runs it holds now.</param>
public sealed record WorkerRecord(string Name, IReadOnlyList<WorkflowVersion> Workflows, DateTimeOffset? AdvertisedUntil, DateTimeOffset? HeartbeatAt, DateTimeOffset? LeaseExpiresAt, long RunsHeld)
{
    /// <summary>Reads an advertised version as the stores keep it: <c>Name@Version</c>.</summary>
    internal static WorkflowVersion ParseVersion(string advertised)
    {
        var at = advertised.LastIndexOf('@');
        return at > 0 && int.TryParse(advertised.AsSpan(at + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var version)
            ? new WorkflowVersion(advertised[..at], version)
            : new WorkflowVersion(advertised, 0);
    }
}

/// <summary>How many runs of one workflow have one status (see <see cref="IWorkflowStoreStatistics.CountRunsAsync"/>).</summary>
/// <param name="WorkflowName">The workflow.</param>
/// <param name="Status">The status.</param>
/// <param name="Count">How many runs.</param>
public sealed record RunCount(string WorkflowName, WorkflowStatus Status, long Count);
