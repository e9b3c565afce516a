using Durably.Generators.Emitting;
using Durably.Generators.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Durably.Generators;

/// <summary>Emits the step table, interceptors, typed client and DI registration of each <c>[DurableWorkflow]</c> class.</summary>
[Generator(LanguageNames.CSharp)]
public sealed class WorkflowGenerator : IIncrementalGenerator
{
    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var workflows = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                KnownNames.DurableWorkflowAttribute,
                predicate: static (node, _) => node is ClassDeclarationSyntax,
                transform: static (ctx, ct) => WorkflowParser.Parse(ctx, ct))
            .WithTrackingName(TrackingNames.Workflows)
            .Where(static model => model is not null)
            .Select(static (model, _) => model!)
            .WithTrackingName(TrackingNames.WorkflowModels);

        context.RegisterSourceOutput(workflows, static (spc, workflow) =>
            spc.AddSource(workflow.HintName, WorkflowEmitter.Emit(workflow)));
    }
}
