using Durably.Runtime.Journal;

namespace Durably.Runtime.Tests.Support;

/// <summary>What a worker's heartbeat says of one run: how the store tests look at a lease.</summary>
internal static class Heartbeats
{
    /// <summary>
    /// Beats <paramref name="lease"/>'s owner's heartbeat (renewing its leases for <paramref name="duration"/>, a minute
    /// by default) and returns what it found of <paramref name="lease"/>'s run: null when the owner no longer holds it.
    /// </summary>
    public static async Task<HeldRun?> HeldAsync(IWorkflowStore store, RunLease lease, TimeSpan? duration = null)
        => (await store.RenewLeasesAsync(lease.Owner, duration ?? TimeSpan.FromMinutes(1), default)).SingleOrDefault(h => h.WorkflowId == lease.WorkflowId);

    /// <summary>What <see cref="HeldAsync"/> returns for a lease that is still current.</summary>
    public static HeldRun Current(RunLease lease, bool cancelRequested = false) => new(lease.WorkflowId, lease.Epoch, cancelRequested);
}
