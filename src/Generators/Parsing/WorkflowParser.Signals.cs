using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Durably.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Durably.Generators.Parsing;

/// <summary><c>[Signal]</c> declarations: their shape, name and payload.</summary>
internal static partial class WorkflowParser
{
    /// <summary>
    /// Reads a <c>[Signal]</c> declaration: a bodiless partial instance method returning <c>Task&lt;SignalResult&lt;T&gt;&gt;</c>
    /// with one <c>TimeSpan</c> parameter, a usable name and a payload JSON can hold. Null, with a diagnostic, otherwise.
    /// </summary>
    private static SignalModel? ParseSignal(IMethodSymbol method, List<Diagnostic> diagnostics, CancellationToken cancellationToken)
    {
        var syntax = method.DeclaringSyntaxReferences.Select(r => r.GetSyntax(cancellationToken)).OfType<MethodDeclarationSyntax>().FirstOrDefault();
        var payload = method.ReturnType is INamedTypeSymbol { Name: "Task", TypeArguments.Length: 1 } task
            && GetShape(task) == ReturnShape.TaskOfT
            && task.TypeArguments[0] is INamedTypeSymbol { Name: KnownNames.SignalResultName, TypeArguments.Length: 1 } result
            && result.ContainingNamespace?.ToDisplayString() == KnownNames.SdkNamespace
                ? result.TypeArguments[0]
                : null;
        var problem =
            !method.IsPartialDefinition && method.PartialDefinitionPart is null ? "is not partial"
            : method.PartialImplementationPart is not null || method.PartialDefinitionPart is not null ? "has a body written by hand"
            : method.IsStatic ? "is static"
            : method.IsGenericMethod ? "is generic"
            : payload is null ? $"returns '{method.ReturnType.ToDisplayString()}'"
            : method.Parameters.Length != 1 || method.Parameters[0].RefKind != RefKind.None || method.Parameters[0].Type.ToDisplayString() != "System.TimeSpan"
                ? "does not take exactly one TimeSpan timeout parameter"
            : null;
        if (problem is not null || syntax is null)
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.InvalidSignalMethod, LocationOf(method), method.Name, problem ?? "has no declaration"));
            return null;
        }

        var attribute = method.GetAttributes().First(a => a.AttributeClass?.ToDisplayString() == KnownNames.SignalAttribute);
        var name = attribute.NamedArguments.FirstOrDefault(a => a.Key == "Name").Value.Value as string ?? DefaultSignalName(method.Name);
        var nameProblem = SignalNameProblem(name);
        if (nameProblem is not null)
        {
            var location = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken).GetLocation() ?? LocationOf(method);
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.InvalidSignalName, location, name.Length > 40 ? name.Substring(0, 40) + "…" : name, method.Name, nameProblem));
            return null;
        }

        var payloadType = payload!.ToDisplayString(s_typeFormat);
        if (PayloadProblem(payload) is { } payloadProblem)
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.UnserializableSignalPayload, syntax.ReturnType.GetLocation(), name, payload.ToDisplayString(), payloadProblem));
            return null;
        }

        return new SignalModel(
            Name: name,
            MethodName: method.Name,
            Modifiers: syntax.Modifiers.ToString(),
            PayloadType: payloadType,
            TimeoutParameter: EscapeIdentifier(method.Parameters[0].Name),
            ClientMethodName: "Signal" + DefaultSignalName(method.Name) + "Async",
            PayloadTypeOf: payload.IsReferenceType ? payload.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToDisplayString(s_typeFormat) : payloadType);
    }

    /// <summary><c>WaitForApprovalAsync</c> → <c>Approval</c>.</summary>
    internal static string DefaultSignalName(string methodName)
    {
        var name = methodName.EndsWith("Async", System.StringComparison.Ordinal) && methodName.Length > 5 ? methodName.Substring(0, methodName.Length - 5) : methodName;
        return StripWaitFor(name);
    }

    private static string StripWaitFor(string name)
        => name.StartsWith("WaitFor", System.StringComparison.Ordinal) && name.Length > 7 && char.IsUpper(name[7]) ? name.Substring(7) : name;

    private static string? SignalNameProblem(string name)
    {
        if (name.Trim().Length == 0)
        {
            return "is empty";
        }

        if (name.Length > 256)
        {
            return "is " + name.Length + " characters long";
        }

        var control = name.FirstOrDefault(char.IsControl);
        return control == default ? null : "contains control character U+" + ((int)control).ToString("X4", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Why a payload type cannot be journaled as JSON, or null.</summary>
    private static string? PayloadProblem(ITypeSymbol type)
    {
        if (type.TypeKind == TypeKind.Delegate)
        {
            return "it is a delegate";
        }

        if (type.TypeKind is TypeKind.Pointer or TypeKind.FunctionPointer)
        {
            return "it is a pointer";
        }

        if (type.IsRefLikeType)
        {
            return "it is a ref struct";
        }

        for (var current = type; current is not null; current = current.BaseType)
        {
            var name = current.ToDisplayString();
            if (name == "System.IO.Stream")
            {
                return "it is a stream";
            }

            if (name is "System.Threading.Tasks.Task" or "System.Threading.Tasks.ValueTask" || name.StartsWith("System.Threading.Tasks.Task<", System.StringComparison.Ordinal))
            {
                return "it is a task";
            }
        }

        return null;
    }
}
