namespace Durably.Generators;

/// <summary>
/// Metadata names of the Durably API the generator recognises. The generator never references the Durably
/// assembly; this file is the one place that spells those names.
/// </summary>
internal static class KnownNames
{
    public const string DurableWorkflowAttribute = "Durably.DurableWorkflowAttribute";
    public const string WorkflowRunAttribute = "Durably.WorkflowRunAttribute";
    public const string StepAttribute = "Durably.StepAttribute";
    public const string SignalAttribute = "Durably.SignalAttribute";

    /// <summary>System.Text.Json's options of a source-generated serializer context.</summary>
    public const string JsonSourceGenerationOptionsAttribute = "System.Text.Json.Serialization.JsonSourceGenerationOptionsAttribute";
    public const string Workflow = "global::Durably.Workflow";
    public const string WorkflowMetadataName = "Durably.Workflow";

    /// <summary>The SDK's namespace, as <c>ContainingNamespace.ToDisplayString()</c> shows it.</summary>
    public const string SdkNamespace = "Durably";
    public const string SignalResultName = "SignalResult";
    public const string SignalResult = "global::Durably.SignalResult";
    public const string FailureRule = "global::Durably.FailureRule";
    public const string IDurableWorkflow = "global::Durably.IDurableWorkflow";

    public const string GeneratedNamespace = "Durably.Generated";

    /// <summary>The build property, visible to the compiler, that asks for the accepted-contracts file.</summary>
    public const string AcceptContractsProperty = "build_property.DurablyAcceptContracts";

    public const string StepDefinition = "global::Durably.Infrastructure.StepDefinition";
    public const string StepCompensation = "global::Durably.Infrastructure.StepCompensation";
    public const string WorkflowDefinition = "global::Durably.Infrastructure.WorkflowDefinition";
    public const string RetryOverrides = "global::Durably.Infrastructure.RetryOverrides";
    public const string DurableOperations = "global::Durably.Infrastructure.DurableOperations";
    public const string Unit = "global::Durably.Infrastructure.Unit";
    public const string IDurableClient = "global::Durably.IDurableClient";
    public const string WorkflowClient = "global::Durably.WorkflowClient";
    public const string WorkflowHandle = "global::Durably.WorkflowHandle";
    public const string WorkflowStartOptions = "global::Durably.WorkflowStartOptions";
    public const string ChildWorkflowOptions = "global::Durably.ChildWorkflowOptions";
    public const string ServiceCollection = "global::Microsoft.Extensions.DependencyInjection.IServiceCollection";
    public const string ServiceCollectionTryAdd = "global::Microsoft.Extensions.DependencyInjection.Extensions.ServiceCollectionDescriptorExtensions";
    public const string CancellationToken = "global::System.Threading.CancellationToken";
    public const string Task = "global::System.Threading.Tasks.Task";
    public const string ValueTask = "global::System.Threading.Tasks.ValueTask";
}
