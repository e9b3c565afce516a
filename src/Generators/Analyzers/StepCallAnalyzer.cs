using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Durably.Generators.Analyzers;

/// <summary>
/// Reports a step called from outside its workflow class (DURABLY0028): the generator intercepts only the calls in the
/// workflow's own declarations, so such a call runs the step body directly, with no journal, retries or key.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class StepCallAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = [DiagnosticDescriptors.StepCalledOutsideWorkflow];

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            // Nothing to look at in a compilation that cannot see Durably.
            if (start.Compilation.GetTypeByMetadataName(KnownNames.StepAttribute) is not { } stepAttribute)
            {
                return;
            }

            start.RegisterOperationAction(operation => AnalyzeInvocation(operation, stepAttribute), OperationKind.Invocation);
        });
    }

    private static void AnalyzeInvocation(OperationAnalysisContext context, INamedTypeSymbol stepAttribute)
    {
        var target = ((IInvocationOperation)context.Operation).TargetMethod.OriginalDefinition;
        if (!target.GetAttributes().Any(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, stepAttribute)))
        {
            return;
        }

        // A [Step] outside a workflow class is reported once, where it is declared (DURABLY0047), not at every call.
        var workflow = target.ContainingType;
        if (!workflow.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == KnownNames.DurableWorkflowAttribute))
        {
            return;
        }

        for (var caller = context.ContainingSymbol.ContainingType; caller is not null; caller = caller.ContainingType)
        {
            if (SymbolEqualityComparer.Default.Equals(caller.OriginalDefinition, workflow.OriginalDefinition))
            {
                return;
            }
        }

        var syntax = context.Operation.Syntax;
        var location = syntax is Microsoft.CodeAnalysis.CSharp.Syntax.InvocationExpressionSyntax { Expression: var callee }
            ? (callee is Microsoft.CodeAnalysis.CSharp.Syntax.MemberAccessExpressionSyntax access ? access.Name : callee).GetLocation()
            : syntax.GetLocation();
        context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.StepCalledOutsideWorkflow, location,
            target.Name, workflow.Name, context.ContainingSymbol.ContainingType?.Name ?? context.ContainingSymbol.Name));
    }
}
