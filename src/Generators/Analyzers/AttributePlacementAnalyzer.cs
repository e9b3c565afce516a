using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Durably.Generators.Analyzers;

/// <summary>
/// Reports <c>[Step]</c>, <c>[WorkflowRun]</c> and <c>[Signal]</c> where the generator never looks (DURABLY0047): on a
/// method of a class that is not a <c>[DurableWorkflow]</c>, on a local function or on a lambda. The code compiles, and
/// the method runs as a plain call — a "step" whose body runs again on every replay.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class AttributePlacementAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = [DiagnosticDescriptors.AttributeNotRead];

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            if (start.Compilation.GetTypeByMetadataName(KnownNames.DurableWorkflowAttribute) is not { } workflow)
            {
                return;
            }

            var attributes = new[] { KnownNames.StepAttribute, KnownNames.WorkflowRunAttribute, KnownNames.SignalAttribute }
                .Select(start.Compilation.GetTypeByMetadataName)
                .Where(a => a is not null)
                .Select(a => a!)
                .ToImmutableArray();
            start.RegisterSymbolAction(symbol => AnalyzeMethod(symbol, workflow, attributes), SymbolKind.Method);
            start.RegisterSyntaxNodeAction(node => AnalyzeFunction(node, attributes), SyntaxKind.LocalFunctionStatement, SyntaxKind.ParenthesizedLambdaExpression);
        });
    }

    private static void AnalyzeMethod(SymbolAnalysisContext context, INamedTypeSymbol workflow, ImmutableArray<INamedTypeSymbol> attributes)
    {
        var method = (IMethodSymbol)context.Symbol;
        var type = method.ContainingType;
        if (type is null || type.GetAttributes().Any(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, workflow)))
        {
            return;
        }

        foreach (var attribute in method.GetAttributes().Where(a => attributes.Contains(a.AttributeClass!, SymbolEqualityComparer.Default)))
        {
            var fix = attribute.AttributeClass!.Name == "StepAttribute"
                ? "a step is journaled only when it is declared in the [DurableWorkflow] class that calls it; move it there, or add [DurableWorkflow] to this class if it is a workflow"
                : "add [DurableWorkflow] to the class if it is a workflow, or remove the attribute";
            Report(context.ReportDiagnostic, attribute, $"is on method '{method.Name}' of '{type.Name}', which is not a [DurableWorkflow] class", fix);
        }
    }

    private static void AnalyzeFunction(SyntaxNodeAnalysisContext context, ImmutableArray<INamedTypeSymbol> attributes)
    {
        var (lists, what) = context.Node switch
        {
            LocalFunctionStatementSyntax local => (local.AttributeLists, $"is on local function '{local.Identifier.ValueText}'"),
            ParenthesizedLambdaExpressionSyntax lambda => (lambda.AttributeLists, "is on a lambda"),
            _ => (default(SyntaxList<AttributeListSyntax>), string.Empty),
        };
        var symbol = context.Node is LocalFunctionStatementSyntax
            ? context.SemanticModel.GetDeclaredSymbol(context.Node, context.CancellationToken) as IMethodSymbol
            : context.SemanticModel.GetSymbolInfo(context.Node, context.CancellationToken).Symbol as IMethodSymbol;
        if (lists.Count == 0 || symbol is null)
        {
            return;
        }

        foreach (var attribute in symbol.GetAttributes().Where(a => attributes.Contains(a.AttributeClass!, SymbolEqualityComparer.Default)))
        {
            Report(context.ReportDiagnostic, attribute, what, "only methods of the [DurableWorkflow] class are read; make it a method of the workflow class");
        }
    }

    private static void Report(System.Action<Diagnostic> report, AttributeData attribute, string what, string fix)
    {
        var location = attribute.ApplicationSyntaxReference?.GetSyntax().GetLocation() ?? Location.None;
        var name = attribute.AttributeClass!.Name;
        report(Diagnostic.Create(DiagnosticDescriptors.AttributeNotRead, location, name.Substring(0, name.Length - "Attribute".Length), what, fix));
    }
}
