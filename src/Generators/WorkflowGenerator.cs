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
        var parsed = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                KnownNames.DurableWorkflowAttribute,
                predicate: static (node, _) => node is ClassDeclarationSyntax,
                transform: static (ctx, ct) => WorkflowParser.Parse(ctx, ct))
            .WithTrackingName(TrackingNames.Workflows);

        // Source and diagnostics leave separately: the model caches by value, diagnostics keep real locations.
        var models = parsed
            .Select(static (result, _) => result.Model)
            .Where(static model => model is not null)
            .Select(static (model, _) => model!)
            .WithTrackingName(TrackingNames.WorkflowModels);

        var diagnostics = parsed
            .Select(static (result, _) => result.Diagnostics)
            .WithTrackingName(TrackingNames.Diagnostics);

        context.RegisterSourceOutput(models, static (spc, workflow) => spc.AddSource(workflow.HintName, WorkflowEmitter.Emit(workflow)));
        context.RegisterSourceOutput(diagnostics, static (spc, list) =>
        {
            foreach (var diagnostic in list)
            {
                spc.ReportDiagnostic(diagnostic);
            }
        });
    }
}
