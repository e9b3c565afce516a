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

        var shapeProblem = type.ContainingType is { } outer ? $"is nested in '{outer.Name}'" : type.IsGenericType ? "is generic" : null;
        if (shapeProblem is not null)
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.WorkflowShape, declaration.Identifier.GetLocation(), type.Name, shapeProblem));
            valid = false;
        }

        var (workflowName, version, onFailure) = ReadWorkflowAttribute(context.Attributes[0], type);
        var runMethods = new List<IMethodSymbol>();
        var steps = new List<IMethodSymbol>();
        var signals = new List<SignalModel>();
        var signalDeclarations = new Dictionary<string, (string PayloadType, string MethodName)>();
        foreach (var member in type.GetMembers())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (member is not IMethodSymbol { MethodKind: MethodKind.Ordinary } method)
            {
                continue;
            }

            if (method is { IsAsync: true, ReturnsVoid: true })
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.AsyncVoid, LocationOf(method), method.Name, type.Name));
            }

            if (HasAttribute(method, KnownNames.WorkflowRunAttribute))
            {
                runMethods.Add(method);
            }

            if (HasAttribute(method, KnownNames.StepAttribute) && IsValidStep(method, diagnostics))
            {
                steps.Add(method);
            }

            if (HasAttribute(method, KnownNames.SignalAttribute) && ParseSignal(method, diagnostics, cancellationToken) is { } signal)
            {
                if (signalDeclarations.TryGetValue(signal.Name, out var first) && first.PayloadType != signal.PayloadType)
                {
                    diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.ConflictingSignalPayloads, LocationOf(method),
                        signal.Name, Display(first.PayloadType), first.MethodName, Display(signal.PayloadType), signal.MethodName));
                    continue;
                }

                signalDeclarations[signal.Name] = (signal.PayloadType, signal.MethodName);
                signals.Add(signal);
            }
        }

        var run = ParseRunMethod(type, declaration, runMethods, diagnostics);
        valid &= run is not null;
        valid &= CheckStepIds(type, steps, diagnostics);

        var references = FindStepReferences(type, steps, context.SemanticModel, diagnostics, cancellationToken);
        if (!valid)
        {
            return new WorkflowParseResult(null, new EquatableArray<Diagnostic>(diagnostics), type.Name, declaration.Identifier.GetLocation());
        }

        var stepModels = steps.Select(step => new StepModel(
            Id: GetStepId(step),
            MethodName: step.Name,
            Parameters: ParseParameters(step.Parameters),
            Shape: GetShape(step.ReturnType)!.Value,
            ResultType: GetResultType(step.ReturnType),
            CallSites: references.TryGetValue(step, out var sites) ? new EquatableArray<CallSiteModel>(sites) : EquatableArray<CallSiteModel>.Empty,
            Policy: StepPolicyParser.Parse(step, step.GetAttributes().First(a => a.AttributeClass?.ToDisplayString() == KnownNames.StepAttribute), diagnostics)))
            .ToList();

        var runMethod = runMethods[0];
        var clientIsPublic = IsEffectivelyPublic(type)
            && runMethod.Parameters.All(p => IsEffectivelyPublic(p.Type))
            && IsEffectivelyPublic(runMethod.ReturnType)
            && type.GetMembers().OfType<IMethodSymbol>().Where(m => HasAttribute(m, KnownNames.SignalAttribute)).All(m => IsEffectivelyPublic(m.ReturnType));

        var model = new WorkflowModel(
            Namespace: type.ContainingNamespace.IsGlobalNamespace ? string.Empty : type.ContainingNamespace.ToDisplayString(),
            ClassName: type.Name,
            FullyQualifiedName: type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
            ClientAccessibility: clientIsPublic ? "public" : "internal",
            WorkflowName: workflowName,
            Version: version,
            Run: run!,
            Steps: new EquatableArray<StepModel>(stepModels),
            Signals: new EquatableArray<SignalModel>(signals),
            OnFailure: onFailure);
        return new WorkflowParseResult(model, new EquatableArray<Diagnostic>(diagnostics), type.Name, declaration.Identifier.GetLocation());
    }

    private static (string Name, int Version, int OnFailure) ReadWorkflowAttribute(AttributeData attribute, INamedTypeSymbol type)
    {
        var name = type.Name;
        var version = 1;
        var onFailure = 0;
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
            else if (argument.Key == "OnFailure" && argument.Value.Value is int rule)
            {
                onFailure = rule;
            }
        }

        return (name, version, onFailure);
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

        var returnTypeLocation = step.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax() is MethodDeclarationSyntax method
            ? method.ReturnType.GetLocation()
            : LocationOf(step);
        if (GetShape(step.ReturnType) is null)
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.InvalidStepReturnType, returnTypeLocation, step.Name, step.ReturnType.ToDisplayString()));
            return false;
        }

        var valid = true;
        foreach (var parameter in step.Parameters)
        {
            if (IsCancellationToken(parameter.Type))
            {
                continue;
            }

            var why = parameter.RefKind != RefKind.None
                ? $"takes parameter '{parameter.Name}' by {parameter.RefKind.ToString().ToLowerInvariant().Replace("refreadonlyparameter", "ref readonly")}"
                : PayloadProblem(parameter.Type) is { } typeProblem
                    ? $"takes parameter '{parameter.Name}' of type '{parameter.Type.ToDisplayString()}' ({typeProblem.Replace("it is ", string.Empty)})"
                    : null;
            if (why is not null)
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.UnserializableStepValue, parameter.Locations.FirstOrDefault() ?? LocationOf(step), step.Name, why));
                valid = false;
            }
        }

        if (step.ReturnType is INamedTypeSymbol { TypeArguments.Length: 1 } task && PayloadProblem(task.TypeArguments[0]) is { } resultProblem)
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.UnserializableStepValue, returnTypeLocation, step.Name,
                $"returns '{task.TypeArguments[0].ToDisplayString()}' ({resultProblem.Replace("it is ", string.Empty)})"));
            valid = false;
        }

        return valid;
    }

    /// <summary>
    /// Reads a <c>[Signal]</c> declaration: a bodiless partial instance method returning <c>Task&lt;SignalResult&lt;T&gt;&gt;</c>
    /// with one <c>TimeSpan</c> parameter, a usable name and a payload JSON can hold. Null, with a diagnostic, otherwise.
    /// </summary>
    private static SignalModel? ParseSignal(IMethodSymbol method, List<Diagnostic> diagnostics, CancellationToken cancellationToken)
    {
        var syntax = method.DeclaringSyntaxReferences.Select(r => r.GetSyntax(cancellationToken)).OfType<MethodDeclarationSyntax>().FirstOrDefault();
        var payload = method.ReturnType is INamedTypeSymbol { Name: "Task", TypeArguments.Length: 1 } task
            && GetShape(task) == ReturnShape.TaskOfT
            && task.TypeArguments[0] is INamedTypeSymbol { Name: "SignalResult", TypeArguments.Length: 1 } result
            && result.ContainingNamespace?.ToDisplayString() == "Durably"
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
            ClientMethodName: "Signal" + DefaultSignalName(method.Name) + "Async");
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

    private static string Display(string fullyQualified) => fullyQualified.Replace("global::", string.Empty);

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

    private static EquatableArray<ParameterModel> ParseParameters(ImmutableArray<IParameterSymbol> parameters)
        => new(parameters.Select(p => new ParameterModel(EscapeIdentifier(p.Name), p.Type.ToDisplayString(s_typeFormat), IsCancellationToken(p.Type))));

    /// <summary>Reports step ids that are not allowed or used twice; false when there is one.</summary>
    private static bool CheckStepIds(INamedTypeSymbol type, List<IMethodSymbol> steps, List<Diagnostic> diagnostics)
    {
        var valid = true;
        var seen = new Dictionary<string, IMethodSymbol>(System.StringComparer.Ordinal);
        foreach (var step in steps)
        {
            var attribute = step.GetAttributes().First(a => a.AttributeClass?.ToDisplayString() == KnownNames.StepAttribute);
            var explicitId = attribute.NamedArguments.Where(a => a.Key == "Id").Select(a => a.Value.Value as string).FirstOrDefault();
            if (explicitId is not null && StepIdProblem(explicitId) is { } problem)
            {
                var location = StepPolicyParser.ArgumentLocation(attribute, "Id") ?? LocationOf(step);
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.InvalidStepId, location, step.Name, explicitId, problem));
                valid = false;
                continue;
            }

            var id = GetStepId(step);
            if (seen.TryGetValue(id, out var first))
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.DuplicateStepId, LocationOf(step), first.Name, step.Name, type.Name, id));
                valid = false;
                continue;
            }

            seen[id] = step;
        }

        return valid;
    }

    private static string? StepIdProblem(string id)
    {
        if (id.Trim().Length == 0)
        {
            return "is empty";
        }

        if (id.Length > 100)
        {
            return "is " + id.Length + " characters long";
        }

        if (id.IndexOf('/') >= 0)
        {
            return "contains '/', which separates the parts of an idempotency key";
        }

        var control = id.FirstOrDefault(char.IsControl);
        return control == default ? null : "contains control character U+" + ((int)control).ToString("X4", System.Globalization.CultureInfo.InvariantCulture);
    }

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
