using Durably.Runtime.Journal;

namespace Durably.Runtime.Stores;

/// <summary>
/// A real store kept in process memory, with the same semantics as the durable stores (leases, epochs, write-once
/// terminal rows). For unit tests of workflows, and for a journal that may be lost with the process.
/// </summary>
public sealed partial class InMemoryWorkflowStore : IWorkflowStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, RunRecord> _runs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortedDictionary<long, JournalEntry>> _journals = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<StoredSignal>> _signals = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (HashSet<WorkflowVersion> Runnable, DateTimeOffset Until)> _advertised = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    /// <summary>Creates an empty store.</summary>
    /// <param name="timeProvider">The clock that judges leases; <see cref="TimeProvider.System"/> when null.</param>
    public InMemoryWorkflowStore(TimeProvider? timeProvider = null) => _time = timeProvider ?? TimeProvider.System;
}
