using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Durably.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Durably.Generators.Parsing;

/// <summary>Where the workflow calls its steps: the call sites to intercept, and the uses that cannot be journaled.</summary>
internal static partial class WorkflowParser
{
    /// <summary>
    /// Finds every reference to a step in the workflow's declarations, in any file: invocations become call sites
    /// to intercept; any other use (a method group, a delegate) is reported, since it cannot be journaled.
    /// </summary>
    private static Dictionary<IMethodSymbol, List<CallSiteModel>> FindStepReferences(
        INamedTypeSymbol type, List<IMethodSymbol> steps, SemanticModel targetModel, List<Diagnostic> diagnostics, CancellationToken cancellationToken)
    {
        var result = new Dictionary<IMethodSymbol, List<CallSiteModel>>(SymbolEqualityComparer.Default);
        if (steps.Count == 0)
        {
            return result;
        }

        var stepSet = new HashSet<IMethodSymbol>(steps, SymbolEqualityComparer.Default);
        var stepNames = new HashSet<string>(steps.Select(s => s.Name));
        foreach (var reference in type.DeclaringSyntaxReferences)
        {
            var declaration = reference.GetSyntax(cancellationToken);
            var model = declaration.SyntaxTree == targetModel.SyntaxTree
                ? targetModel
                : targetModel.Compilation.GetSemanticModel(declaration.SyntaxTree);

            foreach (var name in declaration.DescendantNodes().OfType<SimpleNameSyntax>())
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (!stepNames.Contains(name.Identifier.ValueText) || IsDeclarationOrNameof(name))
                {
                    continue;
                }

                var symbol = model.GetSymbolInfo(name, cancellationToken);
                if ((symbol.Symbol ?? symbol.CandidateSymbols.FirstOrDefault()) is not IMethodSymbol target || !stepSet.Contains(target.OriginalDefinition))
                {
                    continue;
                }

                var invocation = InvocationOf(name);
                if (invocation is null)
                {
                    diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.StepUsedAsDelegate, name.GetLocation(), target.Name));
                    continue;
                }

                // The member the call is in, through any lambdas and local functions that capture its instance.
                var member = model.GetEnclosingSymbol(invocation.SpanStart, cancellationToken);
                while (member is IMethodSymbol { MethodKind: MethodKind.AnonymousFunction or MethodKind.LocalFunction, IsStatic: false })
                {
                    member = member.ContainingSymbol;
                }

                if (member is { IsStatic: true })
                {
                    diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.StepCalledFromStaticContext, name.GetLocation(), target.Name, member.Name));
                    continue;
                }

                if (member is IMethodSymbol caller && stepSet.Contains(caller.OriginalDefinition))
                {
                    // Still intercepted: at run time the interceptor sees it is inside a step body and calls it directly.
                    diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.StepCalledInsideStep, name.GetLocation(), target.Name, caller.Name));
                }

                if (model.GetInterceptableLocation(invocation, cancellationToken) is not { } location)
                {
                    continue;
                }

                if (!result.TryGetValue(target.OriginalDefinition, out var list))
                {
                    result[target.OriginalDefinition] = list = [];
                }

                // The comment in generated code names the file, not the machine's path to it.
                list.Add(new CallSiteModel(location.Version, location.Data, System.IO.Path.GetFileName(location.GetDisplayLocation())));
            }
        }

        return result;
    }

    /// <summary>The invocation whose target <paramref name="name"/> is (<c>Step(x)</c>, <c>this.Step(x)</c>, <c>this?.Step(x)</c>), else null.</summary>
    private static InvocationExpressionSyntax? InvocationOf(SimpleNameSyntax name)
    {
        ExpressionSyntax callee = name.Parent switch
        {
            MemberAccessExpressionSyntax access when access.Name == name => access,
            MemberBindingExpressionSyntax binding => binding,
            _ => name,
        };
        return callee.Parent is InvocationExpressionSyntax invocation && invocation.Expression == callee ? invocation : null;
    }

    private static bool IsDeclarationOrNameof(SimpleNameSyntax name)
        => name.Ancestors().OfType<InvocationExpressionSyntax>().Any(i => i.Expression is IdentifierNameSyntax { Identifier.ValueText: "nameof" });
}
