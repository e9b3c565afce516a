namespace Durably;

/// <summary>Which runs <see cref="IDurableClient.ListRunsAsync"/> returns: filters, page size and position. Newest first.</summary>
public sealed record WorkflowRunQuery
{
    /// <summary>The largest <see cref="PageSize"/>.</summary>
    public const int MaxPageSize = 1000;

    /// <summary>Only runs of this workflow (its <c>[DurableWorkflow]</c> name); all when <see langword="null"/>.</summary>
    public string? WorkflowName { get; init; }

    /// <summary>Only runs with this status; all when <see langword="null"/>.</summary>
    public WorkflowStatus? Status { get; init; }

    /// <summary>Only runs of this version of the workflow; needs <see cref="WorkflowName"/>. All versions when <see langword="null"/>.</summary>
    public int? Version { get; init; }

    /// <summary>Only runs started with this instance key (<see cref="WorkflowStartOptions.InstanceKey"/>), active or ended.</summary>
    public string? InstanceKey { get; init; }

    /// <summary>Only runs started at or after this time.</summary>
    public DateTimeOffset? CreatedFrom { get; init; }

    /// <summary>Only runs started before this time.</summary>
    public DateTimeOffset? CreatedBefore { get; init; }

    /// <summary>How many runs a page holds, 1 to <see cref="MaxPageSize"/>; 100 unless set.</summary>
    public int PageSize { get; init; } = 100;

    /// <summary>Where to go on: the <see cref="WorkflowRunPage.NextPageToken"/> of the previous page; the first page when <see langword="null"/>.</summary>
    public string? PageToken { get; init; }
}

/// <summary>A page of runs, newest first.</summary>
/// <param name="Runs">The runs.</param>
/// <param name="NextPageToken">Pass as <see cref="WorkflowRunQuery.PageToken"/> for the next page; <see langword="null"/> on the last page.</param>
public sealed record WorkflowRunPage(IReadOnlyList<WorkflowRunInfo> Runs, string? NextPageToken);
