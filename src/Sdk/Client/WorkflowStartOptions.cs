namespace Durably;

/// <summary>How to start a run: its id and, for a single-instance start, its instance key.</summary>
public sealed record WorkflowStartOptions
{
    /// <summary>The run's id, the idempotency key of the start; a new GUID when <see langword="null"/>.</summary>
    public string? WorkflowId { get; init; }

    /// <summary>
    /// A key that at most one active (<see cref="WorkflowStatus.Running"/>) run of the workflow may hold at a time —
    /// "customer-42", "nightly-report" — separate from the workflow id: every store enforces it atomically, across
    /// workers. A start whose key is held by an active run does what <see cref="IfActive"/> says. Runs that ended
    /// (dead-lettered ones included) hold no key; a run that continues as new hands its key to the next run.
    /// <see langword="null"/>: no limit.
    /// </summary>
    public string? InstanceKey { get; init; }

    /// <summary>What a start does when an active run holds its <see cref="InstanceKey"/>; join it, unless set.</summary>
    public ActiveInstanceBehavior IfActive { get; init; } = ActiveInstanceBehavior.Join;
}

/// <summary>What a single-instance start does when an active run already holds its instance key.</summary>
public enum ActiveInstanceBehavior
{
    /// <summary>Start nothing and return a handle to the active run (whose id differs from the one asked for).</summary>
    Join = 0,

    /// <summary>Start nothing and throw <see cref="WorkflowInstanceActiveException"/> naming the active run.</summary>
    Refuse = 1,
}
