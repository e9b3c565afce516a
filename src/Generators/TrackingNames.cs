namespace Durably.Generators;

/// <summary>Names of the pipeline stages, for incrementality tests (<c>WithTrackingName</c>).</summary>
internal static class TrackingNames
{
    public const string Workflows = nameof(Workflows);
    public const string WorkflowModels = nameof(WorkflowModels);
    public const string Diagnostics = nameof(Diagnostics);
    public const string InterceptorsEnabled = nameof(InterceptorsEnabled);
    public const string ContractChecks = nameof(ContractChecks);
    public const string WorkflowIdentities = nameof(WorkflowIdentities);
    public const string WorkflowParts = nameof(WorkflowParts);
    public const string IncludeFields = nameof(IncludeFields);
}
