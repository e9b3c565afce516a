using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Durably.Generators.Parsing;

/// <summary>The checks of every type a workflow's run method, steps and signals take or return.</summary>
internal static partial class WorkflowParser
{
    /// <summary>Reports each type of the run method, steps and signals that generated code cannot name; false when one is reported.</summary>
    private static bool CheckNameable(List<IMethodSymbol> runMethods, List<IMethodSymbol> steps, List<IMethodSymbol> signals, List<Diagnostic> diagnostics)
    {
        var valid = true;
        foreach (var (kind, methods) in new[] { ("Run method", runMethods), ("Step", steps), ("Signal method", signals) })
        {
            foreach (var method in methods)
            {
                foreach (var parameter in method.Parameters.Where(p => !IsCancellationToken(p.Type)))
                {
                    valid &= CheckNameable(parameter.Type, $"{kind} '{method.Name}'", $"takes parameter '{parameter.Name}' of type", parameter.Locations.FirstOrDefault() ?? LocationOf(method), diagnostics);
                }

                var result = GetShape(method.ReturnType) is not null && method.ReturnType is INamedTypeSymbol { TypeArguments.Length: 1 } task ? task.TypeArguments[0] : method.ReturnType;
                valid &= CheckNameable(result, $"{kind} '{method.Name}'", "returns", ReturnLocation(method), diagnostics);
            }
        }

        return valid;
    }

    /// <summary>Reports each run input and result, step argument and result, and signal payload that the journal would not give back as written.</summary>
    private static void CheckRoundTrips(List<IMethodSymbol> runMethods, List<IMethodSymbol> steps, List<IMethodSymbol> signals, List<Diagnostic> diagnostics, bool includeFields)
    {
        foreach (var (kind, methods) in new[] { ("Run method", runMethods), ("Step", steps) })
        {
            foreach (var method in methods)
            {
                foreach (var parameter in method.Parameters.Where(p => !IsCancellationToken(p.Type) && PayloadProblem(p.Type) is null))
                {
                    Report(parameter.Type, $"{kind} '{method.Name}' takes parameter '{parameter.Name}' of type", parameter.Locations.FirstOrDefault() ?? LocationOf(method));
                }

                if (GetShape(method.ReturnType) is not null && method.ReturnType is INamedTypeSymbol { TypeArguments.Length: 1 } task && PayloadProblem(task.TypeArguments[0]) is null)
                {
                    Report(task.TypeArguments[0], $"{kind} '{method.Name}' returns", ReturnLocation(method));
                }
            }
        }

        foreach (var signal in signals)
        {
            if (signal.ReturnType is INamedTypeSymbol { TypeArguments.Length: 1 } task && task.TypeArguments[0] is INamedTypeSymbol { Name: KnownNames.SignalResultName, TypeArguments.Length: 1 } result
                && PayloadProblem(result.TypeArguments[0]) is null)
            {
                Report(result.TypeArguments[0], $"Signal method '{signal.Name}' receives a payload of type", ReturnLocation(signal));
            }
        }

        void Report(ITypeSymbol type, string what, Location location)
        {
            if (JournalValueCheck.Loss(type, includeFields) is { } loss)
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.ValueLostInJournal, location, what, type.ToDisplayString(), loss));
            }
        }
    }

    /// <summary>Where the method's return type is written, or the method's name when there is no declaration to point at.</summary>
    private static Location ReturnLocation(IMethodSymbol method)
        => method.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax() is MethodDeclarationSyntax syntax ? syntax.ReturnType.GetLocation() : LocationOf(method);
}
