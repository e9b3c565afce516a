using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Durably.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Durably.Generators.Parsing;

/// <summary>Turns a <c>[DurableWorkflow]</c> class symbol into a <see cref="WorkflowModel"/>.</summary>
internal static class WorkflowParser
{
    private static readonly SymbolDisplayFormat s_typeFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    public static WorkflowModel? Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type)
        {
            return null;
        }

        var attribute = context.Attributes[0];
        var workflowName = type.Name;
        var version = 1;
        foreach (var argument in attribute.NamedArguments)
        {
            if (argument.Key == "Name" && argument.Value.Value is string name && name.Length > 0)
            {
                workflowName = name;
            }
            else if (argument.Key == "Version" && argument.Value.Value is int v)
            {
                version = v;
            }
        }

        var steps = new List<IMethodSymbol>();
        IMethodSymbol? run = null;
        foreach (var member in type.GetMembers())
        {
            if (member is not IMethodSymbol method || method.MethodKind != MethodKind.Ordinary)
            {
                continue;
            }

            if (HasAttribute(method, KnownNames.StepAttribute))
            {
                steps.Add(method);
            }
            else if (HasAttribute(method, KnownNames.WorkflowRunAttribute))
            {
                run ??= method;
            }
        }

        var callSites = FindCallSites(type, steps, context.SemanticModel, cancellationToken);

        var stepModels = steps
            .Select(step => new StepModel(
                Id: GetStepId(step),
                MethodName: step.Name,
                Parameters: ParseParameters(step.Parameters),
                Shape: GetShape(step.ReturnType) ?? ReturnShape.Task,
                ResultType: GetResultType(step.ReturnType),
                CallSites: callSites.TryGetValue(step, out var sites) ? new EquatableArray<CallSiteModel>(sites) : EquatableArray<CallSiteModel>.Empty))
            .ToImmutableArray();

        return new WorkflowModel(
            Namespace: type.ContainingNamespace.IsGlobalNamespace ? string.Empty : type.ContainingNamespace.ToDisplayString(),
            ClassName: type.Name,
            FullyQualifiedName: type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
            Accessibility: type.DeclaredAccessibility == Accessibility.Public ? "public" : "internal",
            WorkflowName: workflowName,
            Version: version,
            Run: run is null ? null : ParseRun(run),
            Steps: new EquatableArray<StepModel>(stepModels),
            Constructor: ParseParameters(PickConstructor(type)?.Parameters ?? ImmutableArray<IParameterSymbol>.Empty));
    }

    private static RunMethodModel? ParseRun(IMethodSymbol run)
    {
        var shape = GetShape(run.ReturnType);
        if (shape is not (ReturnShape.Task or ReturnShape.TaskOfT) || run.Parameters.Length > 1)
        {
            return null;
        }

        var input = run.Parameters.Length == 1 ? ParseParameters(run.Parameters)[0] : null;
        return new RunMethodModel(run.Name, input, shape.Value, GetResultType(run.ReturnType));
    }

    private static IMethodSymbol? PickConstructor(INamedTypeSymbol type)
        => type.InstanceConstructors
            .Where(c => c.DeclaredAccessibility is Accessibility.Public or Accessibility.Internal)
            .OrderByDescending(c => c.Parameters.Length)
            .FirstOrDefault();

    private static Dictionary<IMethodSymbol, List<CallSiteModel>> FindCallSites(
        INamedTypeSymbol type, List<IMethodSymbol> steps, SemanticModel targetModel, CancellationToken cancellationToken)
    {
        var result = new Dictionary<IMethodSymbol, List<CallSiteModel>>(SymbolEqualityComparer.Default);
        if (steps.Count == 0)
        {
            return result;
        }

        var stepSet = new HashSet<IMethodSymbol>(steps, SymbolEqualityComparer.Default);
        var stepNames = new HashSet<string>(steps.Select(s => s.Name));

        // Call sites may sit in any partial declaration of the workflow, in any file.
        foreach (var reference in type.DeclaringSyntaxReferences)
        {
            var declaration = reference.GetSyntax(cancellationToken);
            var model = declaration.SyntaxTree == targetModel.SyntaxTree
                ? targetModel
                : targetModel.Compilation.GetSemanticModel(declaration.SyntaxTree);

            foreach (var invocation in declaration.DescendantNodes().OfType<InvocationExpressionSyntax>())
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (!stepNames.Contains(GetInvokedName(invocation.Expression) ?? string.Empty))
                {
                    continue;
                }

                if (model.GetSymbolInfo(invocation, cancellationToken).Symbol is not IMethodSymbol target
                    || !stepSet.Contains(target.OriginalDefinition))
                {
                    continue;
                }

                var location = model.GetInterceptableLocation(invocation, cancellationToken);
                if (location is null)
                {
                    continue;
                }

                if (!result.TryGetValue(target.OriginalDefinition, out var list))
                {
                    result[target.OriginalDefinition] = list = new List<CallSiteModel>();
                }

                // The comment in generated code names the file, not the machine's path to it.
                list.Add(new CallSiteModel(location.Version, location.Data, System.IO.Path.GetFileName(location.GetDisplayLocation())));
            }
        }

        return result;
    }

    private static string? GetInvokedName(ExpressionSyntax expression) => expression switch
    {
        IdentifierNameSyntax identifier => identifier.Identifier.ValueText,
        MemberAccessExpressionSyntax memberAccess => memberAccess.Name.Identifier.ValueText,
        _ => null,
    };

    private static EquatableArray<ParameterModel> ParseParameters(ImmutableArray<IParameterSymbol> parameters)
        => new(parameters.Select(p => new ParameterModel(
            EscapeIdentifier(p.Name),
            p.Type.ToDisplayString(s_typeFormat),
            IsCancellationToken(p.Type))));

    private static string GetStepId(IMethodSymbol step)
    {
        var attribute = step.GetAttributes().First(a => a.AttributeClass?.ToDisplayString() == KnownNames.StepAttribute);
        foreach (var argument in attribute.NamedArguments)
        {
            if (argument.Key == "Id" && argument.Value.Value is string id && id.Length > 0)
            {
                return id;
            }
        }

        return step.Name;
    }

    internal static ReturnShape? GetShape(ITypeSymbol returnType)
    {
        if (returnType is not INamedTypeSymbol named || named.ContainingNamespace?.ToDisplayString() != "System.Threading.Tasks")
        {
            return null;
        }

        return (named.Name, named.TypeArguments.Length) switch
        {
            ("Task", 0) => ReturnShape.Task,
            ("Task", 1) => ReturnShape.TaskOfT,
            ("ValueTask", 0) => ReturnShape.ValueTask,
            ("ValueTask", 1) => ReturnShape.ValueTaskOfT,
            _ => null,
        };
    }

    private static string? GetResultType(ITypeSymbol returnType)
        => returnType is INamedTypeSymbol { TypeArguments.Length: 1 } named && GetShape(returnType) is not null
            ? named.TypeArguments[0].ToDisplayString(s_typeFormat)
            : null;

    internal static bool IsCancellationToken(ITypeSymbol type)
        => type.Name == "CancellationToken" && type.ContainingNamespace?.ToDisplayString() == "System.Threading";

    internal static bool HasAttribute(ISymbol symbol, string metadataName)
        => symbol.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == metadataName);

    internal static string EscapeIdentifier(string name)
        => SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "@" + name : name;
}
