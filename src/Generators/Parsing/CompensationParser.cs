using System.Collections.Generic;
using System.Linq;
using Durably.Generators.Model;
using Microsoft.CodeAnalysis;

namespace Durably.Generators.Parsing;

/// <summary>
/// Resolves <c>[Step(Compensate = nameof(X))]</c> to a method of the workflow and checks its shape (DURABLY0015–0018):
/// it returns a Task or ValueTask and takes the step's result, the step's parameters, the result followed by the
/// parameters, or nothing — with an optional CancellationToken last.
/// </summary>
internal static class CompensationParser
{
    public static CompensationModel? Parse(IMethodSymbol step, string name, Location location, List<Diagnostic> diagnostics)
    {
        var candidates = step.ContainingType.GetMembers(name).OfType<IMethodSymbol>().Where(m => m.MethodKind == MethodKind.Ordinary).ToList();
        if (candidates.Count == 0)
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.CompensationNotFound, location, step.Name, name, step.ContainingType.Name));
            return null;
        }

        var stepInputs = step.Parameters.Where(p => !IsCancellationToken(p.Type)).ToList();
        var inputs = stepInputs.Select(p => p.Type).ToList();
        var result = step.ReturnType is INamedTypeSymbol { TypeArguments.Length: 1 } task ? task.TypeArguments[0] : null;
        foreach (var method in candidates)
        {
            if (Match(method, stepInputs, result) is { } arguments)
            {
                if (method.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == KnownNames.StepAttribute))
                {
                    diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.CompensationIsStep, location, name, step.Name));
                    return null;
                }

                var shape = WorkflowParser.GetShape(method.ReturnType);
                if (shape is not (ReturnShape.Task or ReturnShape.ValueTask))
                {
                    diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.CompensationReturnType, location, name, step.Name, method.ReturnType.ToDisplayString()));
                    return null;
                }

                var stepParameters = step.Parameters.Where(p => !IsCancellationToken(p.Type)).Select(p => "input." + WorkflowParser.EscapeIdentifier(p.Name)).ToList();
                var expressions = arguments switch
                {
                    Arguments.Inputs => stepParameters,
                    Arguments.Result => ["result"],
                    Arguments.ResultAndInputs => ["result", .. stepParameters],
                    _ => new List<string>(),
                };
                if (method.Parameters.Length > 0 && IsCancellationToken(method.Parameters[method.Parameters.Length - 1].Type))
                {
                    expressions.Add("cancellationToken");
                }

                return new CompensationModel(
                    WorkflowParser.EscapeIdentifier(method.Name),
                    method.IsStatic,
                    arguments is Arguments.Result or Arguments.ResultAndInputs,
                    shape == ReturnShape.ValueTask,
                    new EquatableArray<string>(expressions));
            }
        }

        var shown = string.Join(", ", candidates[0].Parameters.Select(p => p.Type.ToDisplayString()));
        var resultShown = result is null ? "none: the step returns no result" : result.ToDisplayString();
        var inputsShown = string.Join(", ", inputs.Select(t => t.ToDisplayString()));
        diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.CompensationParameters, location, name, step.Name, shown, resultShown, inputsShown));
        return null;
    }

    private enum Arguments
    {
        None,
        Inputs,
        Result,
        ResultAndInputs,
    }

    /// <summary>Which arguments <paramref name="method"/> takes, or null when its parameters fit no allowed form.</summary>
    private static Arguments? Match(IMethodSymbol method, List<IParameterSymbol> stepInputs, ITypeSymbol? result)
    {
        var inputs = stepInputs.Select(p => p.Type).ToList();
        if (method.IsGenericMethod || method.Parameters.Any(p => p.RefKind != RefKind.None))
        {
            return null;
        }

        var parameters = method.Parameters.Select(p => p.Type).ToList();
        if (parameters.Count > 0 && IsCancellationToken(parameters[parameters.Count - 1]))
        {
            parameters.RemoveAt(parameters.Count - 1);
        }

        if (parameters.Any(IsCancellationToken))
        {
            return null;
        }

        if (parameters.Count == 0)
        {
            return Arguments.None;
        }

        var takesResult = result is not null && parameters.Count == 1 && SymbolEqualityComparer.Default.Equals(parameters[0], result);
        if (Same(parameters, inputs))
        {
            // One parameter whose type is both the step's result and its only parameter: the name decides —
            // the step parameter's own name means the argument, any other name the result.
            return takesResult && method.Parameters[0].Name != stepInputs[0].Name ? Arguments.Result : Arguments.Inputs;
        }

        if (result is null)
        {
            return null;
        }

        if (takesResult)
        {
            return Arguments.Result;
        }

        return SymbolEqualityComparer.Default.Equals(parameters[0], result) && Same(parameters.Skip(1).ToList(), inputs) ? Arguments.ResultAndInputs : null;
    }

    private static bool Same(List<ITypeSymbol> left, List<ITypeSymbol> right)
        => left.Count == right.Count && left.Zip(right, (l, r) => SymbolEqualityComparer.Default.Equals(l, r)).All(same => same);

    private static bool IsCancellationToken(ITypeSymbol type) => WorkflowParser.IsCancellationToken(type);
}
