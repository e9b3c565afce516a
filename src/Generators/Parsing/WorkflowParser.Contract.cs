using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using Durably.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Durably.Generators.Parsing;

/// <summary>
/// A workflow's contract (DESIGN §6): what in-flight runs depend on — name and version, the run method's input and
/// result types, each step's stable id with its parameter and result types, each signal with its payload type, the
/// compensation pairs, and the sketch of durable calls the run method makes (and the workflow methods it reaches), in
/// source order. Step bodies are not part of it: editing one never changes the contract. Its hash is the fingerprint.
/// </summary>
internal static partial class WorkflowParser
{
    private static readonly SymbolDisplayFormat s_contractTypeFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .WithGlobalNamespaceStyle(SymbolDisplayGlobalNamespaceStyle.Omitted);

    /// <summary>The contract, one fact per line, in a fixed order.</summary>
    private static string Contract(
        string workflowName, int version, IMethodSymbol run, List<IMethodSymbol> steps, List<SignalModel> signals, IReadOnlyList<string> sketch)
    {
        var lines = new List<string>
        {
            $"workflow {workflowName} v{version}",
            $"run ({string.Join(", ", run.Parameters.Select(p => ContractType(p.Type)))}) -> {ContractResult(run.ReturnType)}",
        };
        foreach (var step in steps.OrderBy(s => GetStepId(s), System.StringComparer.Ordinal))
        {
            var parameters = step.Parameters.Where(p => !IsCancellationToken(p.Type)).Select(p => ContractType(p.Type));
            lines.Add($"step {GetStepId(step)} ({string.Join(", ", parameters)}) -> {ContractResult(step.ReturnType)}");
            if (step.GetAttributes().FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == KnownNames.StepAttribute)?
                .NamedArguments.FirstOrDefault(a => a.Key == "Compensate").Value.Value is string compensation)
            {
                lines.Add($"compensate {GetStepId(step)} by {compensation}");
            }
        }

        foreach (var signal in signals.OrderBy(s => s.Name, System.StringComparer.Ordinal).ThenBy(s => s.PayloadType, System.StringComparer.Ordinal))
        {
            lines.Add($"signal {signal.Name} {Display(signal.PayloadType)}");
        }

        lines.Add("calls " + string.Join(", ", sketch));
        return string.Join("\n", lines);
    }

    /// <summary>The contract's fingerprint: the first 16 hex digits of its SHA-256.</summary>
    internal static string Fingerprint(string contract)
    {
        using var sha = SHA256.Create();
        var hash = sha.ComputeHash(Encoding.UTF8.GetBytes(contract));
        return string.Concat(hash.Take(8).Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));
    }

    private static string ContractType(ITypeSymbol type) => type.ToDisplayString(s_contractTypeFormat);

    private static string ContractResult(ITypeSymbol returnType)
        => returnType is INamedTypeSymbol { IsGenericType: true } generic ? ContractType(generic.TypeArguments[0]) : "void";

    /// <summary>
    /// The durable calls of the run method and of the workflow methods it calls, in source order: <c>step:Id</c>,
    /// <c>timer</c>, <c>signal:name</c>, <c>patch:id</c>, <c>deprecated-patch:id</c>. A workflow method is followed where it is first called; recursion is not.
    /// </summary>
    private static IReadOnlyList<string> DurableCallSketch(
        IMethodSymbol run, INamedTypeSymbol type, List<IMethodSymbol> steps, List<SignalModel> signals, Compilation compilation, CancellationToken cancellationToken)
    {
        var stepIds = steps.ToDictionary(s => s, GetStepId, SymbolEqualityComparer.Default);
        var signalNames = signals.ToDictionary(s => s.MethodName, s => s.Name);
        var sketch = new List<string>();
        var visited = new HashSet<IMethodSymbol>(SymbolEqualityComparer.Default);
        Visit(run, null);
        return sketch;

        void Visit(IMethodSymbol method, string? outerGuard)
        {
            if (!visited.Add(method.OriginalDefinition))
            {
                return;
            }

            foreach (var reference in method.DeclaringSyntaxReferences)
            {
                var syntax = reference.GetSyntax(cancellationToken);
                var model = compilation.GetSemanticModel(syntax.SyntaxTree);
                foreach (var invocation in syntax.DescendantNodes().OfType<InvocationExpressionSyntax>())
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var info = model.GetSymbolInfo(invocation, cancellationToken);
                    if ((info.Symbol ?? info.CandidateSymbols.FirstOrDefault()) is not IMethodSymbol called)
                    {
                        continue;
                    }

                    called = called.ReducedFrom ?? called;
                    // A call inside a patch's new branch is marked with the patch: "insure>step:Insure".
                    var guard = PatchGuard(invocation, model, cancellationToken) ?? outerGuard;
                    var prefix = guard is null ? string.Empty : guard + ">";
                    if (stepIds.TryGetValue(called.OriginalDefinition, out var id))
                    {
                        sketch.Add(prefix + "step:" + id);
                    }
                    else if (called.ContainingType?.ToDisplayString() == KnownNames.WorkflowMetadataName)
                    {
                        switch (called.Name)
                        {
                            case "SleepAsync" or "SleepUntilAsync":
                                sketch.Add(prefix + "timer");
                                break;
                            case "WaitForSignalAsync":
                                var name = invocation.ArgumentList.Arguments.FirstOrDefault() is { } argument
                                    && model.GetConstantValue(argument.Expression, cancellationToken) is { HasValue: true, Value: string constant } ? constant : "?";
                                sketch.Add(prefix + "signal:" + name);
                                break;
                            case "Patched" or "DeprecatePatch":
                                var patch = invocation.ArgumentList.Arguments.FirstOrDefault() is { } patchArgument
                                    && model.GetConstantValue(patchArgument.Expression, cancellationToken) is { HasValue: true, Value: string patchId } ? patchId : "?";
                                sketch.Add(prefix + (called.Name == "Patched" ? "patch:" : "deprecated-patch:") + patch);
                                break;
                        }
                    }
                    else if (SymbolEqualityComparer.Default.Equals(called.ContainingType?.OriginalDefinition, type))
                    {
                        if (signalNames.TryGetValue(called.Name, out var signal) && HasAttribute(called, KnownNames.SignalAttribute))
                        {
                            sketch.Add(prefix + "signal:" + signal);
                        }
                        else
                        {
                            Visit(called, guard);
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// The patch whose new branch <paramref name="invocation"/> is in: the innermost <c>if</c> whose condition calls
    /// <c>Workflow.Patched("id")</c> and whose then-branch holds the call, or the right side of a <c>&amp;&amp;</c> whose left
    /// side calls it. Null when the call is in no patch's new branch.
    /// </summary>
    private static string? PatchGuard(InvocationExpressionSyntax invocation, SemanticModel model, CancellationToken cancellationToken)
    {
        foreach (var ancestor in invocation.Ancestors())
        {
            var guard = ancestor switch
            {
                IfStatementSyntax branch when branch.Statement.Span.Contains(invocation.Span) => PatchIn(branch.Condition),
                BinaryExpressionSyntax { RawKind: (int)Microsoft.CodeAnalysis.CSharp.SyntaxKind.LogicalAndExpression } logical when logical.Right.Span.Contains(invocation.Span) => PatchIn(logical.Left),
                _ => null,
            };
            if (guard is not null)
            {
                return guard;
            }

            if (ancestor is MemberDeclarationSyntax)
            {
                return null;
            }
        }

        return null;

        string? PatchIn(SyntaxNode condition)
        {
            foreach (var check in condition.DescendantNodesAndSelf().OfType<InvocationExpressionSyntax>())
            {
                if (model.GetSymbolInfo(check, cancellationToken).Symbol is IMethodSymbol { Name: "Patched" } patched
                    && patched.ContainingType?.ToDisplayString() == KnownNames.WorkflowMetadataName
                    && check.ArgumentList.Arguments.FirstOrDefault() is { } argument
                    && model.GetConstantValue(argument.Expression, cancellationToken) is { HasValue: true, Value: string id })
                {
                    return id;
                }
            }

            return null;
        }
    }
}
