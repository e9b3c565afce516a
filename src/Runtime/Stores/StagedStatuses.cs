using Durably.Runtime.Journal;

namespace Durably.Runtime.Stores;

/// <summary>
/// The statuses runs have staged (<see cref="IWorkflowStoreRunStatus.StageStatus"/>) and not yet written: a store takes
/// a run's status when it builds a write fenced by the run's lease, writes it in that write's transaction, and says when
/// the write is done. One status write per run is in flight at a time, so statuses land in the order staged; a write
/// that failed gives its status back unless a newer one was staged meanwhile.
/// </summary>
internal sealed class StagedStatuses
{
    private readonly Dictionary<string, Slot> _slots = new(StringComparer.Ordinal);

    // How many slots there are, read without the lock: every write asks, and almost always nothing is staged. A run
    // stages on its own flow before it issues the write that should carry the status, so that write sees the count.
    private volatile int _count;

    /// <summary>Stages <paramref name="json"/> for the run of <paramref name="lease"/>, replacing what it staged before.</summary>
    public void Stage(RunLease lease, string? json)
    {
        ArgumentNullException.ThrowIfNull(lease);
        lock (_slots)
        {
            if (!_slots.TryGetValue(lease.WorkflowId, out var slot) || !slot.IsFor(lease))
            {
                // A slot of an earlier lease is dropped: that execution was fenced, its statuses with it.
                _slots[lease.WorkflowId] = slot = new Slot(lease);
                _count = _slots.Count;
            }

            slot.Pending = new Staged(slot, json);
        }
    }

    /// <summary>The status to write with a write fenced by <paramref name="lease"/>, or null; give it back with <see cref="Done"/>.</summary>
    public Staged? Take(RunLease lease)
    {
        if (_count == 0)
        {
            return null;
        }

        lock (_slots)
        {
            if (_slots.TryGetValue(lease.WorkflowId, out var stale) && stale.Lease.Epoch < lease.Epoch)
            {
                // Staged by an execution another one has since taken over from: it will never be written.
                _slots.Remove(lease.WorkflowId);
                _count = _slots.Count;
            }

            if (!_slots.TryGetValue(lease.WorkflowId, out var slot) || !slot.IsFor(lease) || slot.InFlight || slot.Pending is not { } pending)
            {
                return null;
            }

            slot.Pending = null;
            slot.InFlight = true;
            return pending;
        }
    }

    /// <summary>The write that took <paramref name="taken"/> committed (<paramref name="committed"/>) or failed.</summary>
    public void Done(Staged? taken, bool committed)
    {
        if (taken is null)
        {
            return;
        }

        lock (_slots)
        {
            var slot = taken.Slot;
            slot.InFlight = false;
            if (!committed)
            {
                slot.Pending ??= taken;
            }

            if (slot.Pending is null && _slots.TryGetValue(slot.Lease.WorkflowId, out var current) && ReferenceEquals(current, slot))
            {
                _slots.Remove(slot.Lease.WorkflowId);
                _count = _slots.Count;
            }
        }
    }

    /// <summary>
    /// Settles <paramref name="staged"/> once <paramref name="write"/>, which carries it, has committed or failed; with
    /// nothing staged (the common case) the write is returned as it is, at no cost.
    /// </summary>
    public Task<T> Settle<T>(Staged? staged, Task<T> write) => staged is null ? write : SettleAsync(staged, write);

    private async Task<T> SettleAsync<T>(Staged staged, Task<T> write)
    {
        var committed = false;
        try
        {
            var result = await write.ConfigureAwait(false);
            committed = true;
            return result;
        }
        finally
        {
            Done(staged, committed);
        }
    }

    /// <summary>A staged status: its JSON (null clears the status).</summary>
    internal sealed class Staged(Slot slot, string? json)
    {
        public Slot Slot { get; } = slot;

        public string? Json { get; } = json;
    }

    internal sealed class Slot(RunLease lease)
    {
        public RunLease Lease { get; } = lease;

        public Staged? Pending { get; set; }

        public bool InFlight { get; set; }

        public bool IsFor(RunLease other) => Lease.Epoch == other.Epoch && string.Equals(Lease.Owner, other.Owner, StringComparison.Ordinal);
    }
}
