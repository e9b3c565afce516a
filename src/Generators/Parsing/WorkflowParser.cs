using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Durably.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Durably.Generators.Parsing;

/// <summary>Turns a <c>[DurableWorkflow]</c> class into a <see cref="WorkflowModel"/> and its diagnostics.</summary>
internal static class WorkflowParser
{
    private static readonly SymbolDisplayFormat s_typeFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    public static WorkflowParseResult Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var type = (INamedTypeSymbol)context.TargetSymbol;
        var declaration = (ClassDeclarationSyntax)context.TargetNode;
        var diagnostics = new List<Diagnostic>();
        var valid = true;

        if (!type.DeclaringSyntaxReferences.Any(r => r.GetSyntax(cancellationToken) is ClassDeclarationSyntax c && c.Modifiers.Any(SyntaxKind.PartialKeyword)))
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.WorkflowNotPartial, declaration.Identifier.GetLocation(), type.Name));
            valid = false;
        }

        var (workflowName, version) = ReadWorkflowAttribute(context.Attributes[0], type);
        var runMethods = new List<IMethodSymbol>();
        var steps = new List<IMethodSymbol>();
        foreach (var member in type.GetMembers())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (member is not IMethodSymbol { MethodKind: MethodKind.Ordinary } method)
            {
                continue;
            }

            if (HasAttribute(method, KnownNames.WorkflowRunAttribute))
            {
                runMethods.Add(method);
            }

            if (HasAttribute(method, KnownNames.StepAttribute) && IsValidStep(method, diagnostics))
            {
                steps.Add(method);
            }
        }

        var run = ParseRunMethod(type, declaration, runMethods, diagnostics);
        valid &= run is not null;

        var references = FindStepReferences(type, steps, context.SemanticModel, diagnostics, cancellationToken);
        if (!valid)
        {
            return new WorkflowParseResult(null, new EquatableArray<Diagnostic>(diagnostics));
        }

        var stepModels = steps.Select(step => new StepModel(
            Id: GetStepId(step),
            MethodName: step.Name,
            Parameters: ParseParameters(step.Parameters),
            Shape: GetShape(step.ReturnType)!.Value,
            ResultType: GetResultType(step.ReturnType),
            CallSites: references.TryGetValue(step, out var sites) ? new EquatableArray<CallSiteModel>(sites) : EquatableArray<CallSiteModel>.Empty));

        var runMethod = runMethods[0];
        var clientIsPublic = IsEffectivelyPublic(type)
            && runMethod.Parameters.All(p => IsEffectivelyPublic(p.Type))
            && IsEffectivelyPublic(runMethod.ReturnType);

        var model = new WorkflowModel(
            Namespace: type.ContainingNamespace.IsGlobalNamespace ? string.Empty : type.ContainingNamespace.ToDisplayString(),
            ClassName: type.Name,
            FullyQualifiedName: type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
            ClientAccessibility: clientIsPublic ? "public" : "internal",
            WorkflowName: workflowName,
            Version: version,
            Run: run!,
            Steps: new EquatableArray<StepModel>(stepModels));
        return new WorkflowParseResult(model, new EquatableArray<Diagnostic>(diagnostics));
    }

    private static (string Name, int Version) ReadWorkflowAttribute(AttributeData attribute, INamedTypeSymbol type)
    {
        var name = type.Name;
        var version = 1;
        foreach (var argument in attribute.NamedArguments)
        {
            if (argument.Key == "Name" && argument.Value.Value is string n && n.Length > 0)
            {
                name = n;
            }
            else if (argument.Key == "Version" && argument.Value.Value is int v)
            {
                version = v;
            }
        }

        return (name, version);
    }

    private static RunMethodModel? ParseRunMethod(INamedTypeSymbol type, ClassDeclarationSyntax declaration, List<IMethodSymbol> runMethods, List<Diagnostic> diagnostics)
    {
        if (runMethods.Count == 0)
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.MissingRunMethod, declaration.Identifier.GetLocation(), type.Name));
            return null;
        }

        for (var i = 1; i < runMethods.Count; i++)
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.MultipleRunMethods, LocationOf(runMethods[i]), type.Name, runMethods[0].Name, runMethods[i].Name));
        }

        var run = runMethods[0];
        var shape = GetShape(run.ReturnType);
        var problem =
            run.IsStatic ? "is static"
            : run.IsGenericMethod ? "is generic"
            : shape is not (ReturnShape.Task or ReturnShape.TaskOfT) ? $"returns '{run.ReturnType.ToDisplayString()}'"
            : run.Parameters.Length > 1 ? $"takes {run.Parameters.Length} parameters"
            : run.Parameters.Any(p => p.RefKind != RefKind.None) ? "takes a ref, out or in parameter"
            : null;
        if (problem is not null)
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.InvalidRunMethod, LocationOf(run), run.Name, problem));
            return null;
        }

        if (runMethods.Count > 1)
        {
            return null;
        }

        var input = run.Parameters.Length == 1 ? ParseParameters(run.Parameters)[0] : null;
        return new RunMethodModel(run.Name, input, shape!.Value, GetResultType(run.ReturnType));
    }

    private static bool IsValidStep(IMethodSymbol step, List<Diagnostic> diagnostics)
    {
        var problem = step.IsStatic ? "static" : step.IsGenericMethod ? "generic" : null;
        if (problem is not null)
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.InvalidStepMethod, LocationOf(step), step.Name, problem));
            return false;
        }

        if (GetShape(step.ReturnType) is null)
        {
            var location = step.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax() is MethodDeclarationSyntax method
                ? method.ReturnType.GetLocation()
                : LocationOf(step);
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.InvalidStepReturnType, location, step.Name, step.ReturnType.ToDisplayString()));
            return false;
        }

        return true;
    }

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

    private static EquatableArray<ParameterModel> ParseParameters(ImmutableArray<IParameterSymbol> parameters)
        => new(parameters.Select(p => new ParameterModel(EscapeIdentifier(p.Name), p.Type.ToDisplayString(s_typeFormat), IsCancellationToken(p.Type))));

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

    private static bool IsEffectivelyPublic(ITypeSymbol type) => type switch
    {
        ITypeParameterSymbol => false,
        IArrayTypeSymbol array => IsEffectivelyPublic(array.ElementType),
        INamedTypeSymbol named => named.DeclaredAccessibility == Accessibility.Public
            && (named.ContainingType is null || IsEffectivelyPublic(named.ContainingType))
            && named.TypeArguments.All(IsEffectivelyPublic),
        _ => true,
    };

    private static Location LocationOf(IMethodSymbol method)
        => method.Locations.FirstOrDefault() ?? Location.None;

    internal static bool IsCancellationToken(ITypeSymbol type)
        => type.Name == "CancellationToken" && type.ContainingNamespace?.ToDisplayString() == "System.Threading";

    internal static bool HasAttribute(ISymbol symbol, string metadataName)
        => symbol.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == metadataName);

    internal static string EscapeIdentifier(string name)
        => SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "@" + name : name;
}
