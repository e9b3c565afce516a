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
internal static partial class WorkflowParser
{
    private static readonly SymbolDisplayFormat s_typeFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    public static WorkflowParseResult Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var type = (INamedTypeSymbol)context.TargetSymbol;
        var declaration = (TypeDeclarationSyntax)context.TargetNode;
        var diagnostics = new List<Diagnostic>();
        var valid = true;

        // A record, an abstract or a static class cannot be a workflow: nothing else is checked or generated.
        var kindProblem = type.IsRecord ? "is a record" : type.IsStatic ? "is static" : type.IsAbstract ? "is abstract" : null;
        if (kindProblem is not null)
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.WorkflowShape, declaration.Identifier.GetLocation(), type.Name, kindProblem));
            return new WorkflowParseResult(null, new EquatableArray<EquatableDiagnostic>([.. diagnostics.Select(d => new EquatableDiagnostic(d))]), type.Name, declaration.Identifier.GetLocation());
        }

        if (!type.DeclaringSyntaxReferences.Any(r => r.GetSyntax(cancellationToken) is ClassDeclarationSyntax c && c.Modifiers.Any(SyntaxKind.PartialKeyword)))
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.WorkflowNotPartial, declaration.Identifier.GetLocation(), type.Name));
            valid = false;
        }

        var shapeProblem = type.ContainingType is { } outer ? $"is nested in '{outer.Name}'" : type.IsGenericType ? "is generic" : type.IsFileLocal ? "is file-local" : null;
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
        var signalMethods = new List<IMethodSymbol>();
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

            // A run method marked [Step] too is reported as a run method; it is not a step.
            if (HasAttribute(method, KnownNames.StepAttribute) && !HasAttribute(method, KnownNames.WorkflowRunAttribute) && IsValidStep(method, diagnostics))
            {
                steps.Add(method);
            }

            if (HasAttribute(method, KnownNames.SignalAttribute))
            {
                signalMethods.Add(method);
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

        // While the user's code names a type that does not exist, their own error says so: generating code that names
        // it too would only add errors inside generated files.
        if (runMethods.Concat(steps).Concat(signalMethods).Any(m => IsUnresolved(m.ReturnType) || m.Parameters.Any(p => IsUnresolved(p.Type))))
        {
            return new WorkflowParseResult(null, new EquatableArray<EquatableDiagnostic>([.. diagnostics.Select(d => new EquatableDiagnostic(d))]), type.Name, declaration.Identifier.GetLocation());
        }

        var run = ParseRunMethod(type, declaration, runMethods, diagnostics);
        valid &= run is not null;
        valid &= CheckStepIds(type, steps, diagnostics);
        valid &= CheckClientName(type, declaration, diagnostics, out var clientAccessibilityDeclared);
        valid &= CheckNameable(runMethods, steps, signalMethods, diagnostics);

        // Reported, not blocking: a project whose serializer options keep such a value (IncludeFields, a converter)
        // silences the rule and the workflow is generated as usual.
        // Under options that write fields, fewer values are lost: checked again only when the defaults lose one.
        var before = diagnostics.Count;
        CheckRoundTrips(runMethods, steps, signalMethods, diagnostics, includeFields: false);
        var lossesWithFields = new List<Diagnostic>();
        if (diagnostics.Count > before)
        {
            CheckRoundTrips(runMethods, steps, signalMethods, lossesWithFields, includeFields: true);
        }

        var withFields = new EquatableArray<EquatableDiagnostic>([.. lossesWithFields.Select(d => new EquatableDiagnostic(d))]);

        var bodies = ReadBodies(context, type, runMethods, steps, signals, cancellationToken);
        diagnostics.AddRange(bodies.Diagnostics);
        if (!valid)
        {
            return new WorkflowParseResult(null, new EquatableArray<EquatableDiagnostic>([.. diagnostics.Select(d => new EquatableDiagnostic(d))]), type.Name, declaration.Identifier.GetLocation(), withFields);
        }

        var names = ChooseNames(type, clientAccessibilityDeclared);
        var memberNames = StepMemberNames(steps, names.Steps);
        var stepModels = steps.Select((step, i) => new StepModel(
            Id: GetStepId(step),
            MethodName: step.Name,
            Parameters: ParseParameters(step.Parameters),
            Shape: GetShape(step.ReturnType)!.Value,
            ResultType: GetResultType(step.ReturnType),
            CallSites: bodies.CallSites.TryGetValue(step.ToDisplayString(), out var sites) ? new EquatableArray<CallSiteModel>(sites) : EquatableArray<CallSiteModel>.Empty,
            Policy: StepPolicyParser.Parse(step, step.GetAttributes().First(a => a.AttributeClass?.ToDisplayString() == KnownNames.StepAttribute), diagnostics),
            MemberName: memberNames[i]))
            .ToList();

        var runMethod = runMethods[0];
        var clientIsPublic = IsEffectivelyPublic(type)
            && runMethod.Parameters.All(p => IsEffectivelyPublic(p.Type))
            && IsEffectivelyPublic(runMethod.ReturnType)
            && type.GetMembers().OfType<IMethodSymbol>().Where(m => HasAttribute(m, KnownNames.SignalAttribute)).All(m => IsEffectivelyPublic(m.ReturnType));

        var contract = Contract(workflowName, version, runMethod, steps, signals, bodies.Sketch);
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
            OnFailure: onFailure,
            Contract: contract,
            Fingerprint: Fingerprint(contract),
            Names: names);
        return new WorkflowParseResult(model, new EquatableArray<EquatableDiagnostic>([.. diagnostics.Select(d => new EquatableDiagnostic(d))]), type.Name, declaration.Identifier.GetLocation(), withFields);
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

    private static RunMethodModel? ParseRunMethod(INamedTypeSymbol type, TypeDeclarationSyntax declaration, List<IMethodSymbol> runMethods, List<Diagnostic> diagnostics)
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
            HasAttribute(run, KnownNames.StepAttribute) ? "is also marked [Step] (the run method calls steps and is journaled through them; it is not one): remove [Step]"
            : run.IsStatic ? "is static"
            : run.IsGenericMethod ? "is generic"
            : shape is not (ReturnShape.Task or ReturnShape.TaskOfT) ? $"returns '{run.ReturnType.ToDisplayString()}'"
            : run.Parameters.Length > 1 ? $"takes {run.Parameters.Length} parameters"
            : run.Parameters.Any(p => p.RefKind != RefKind.None) ? "takes a ref, out or in parameter"
            : run.Parameters.Length == 1 && IsCancellationToken(run.Parameters[0].Type)
                ? "takes a CancellationToken, which is not an input (a run is cancelled through its client, and each step body gets a token of its own)"
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
        var rejectsNull = run.Parameters.Length == 1 && run.Parameters[0].Type.IsReferenceType && run.Parameters[0].NullableAnnotation == NullableAnnotation.NotAnnotated;
        return new RunMethodModel(run.Name, input, shape!.Value, GetResultType(run.ReturnType), rejectsNull);
    }

    private static bool IsValidStep(IMethodSymbol step, List<Diagnostic> diagnostics)
    {
        var problem = step.IsStatic ? "static" : step.IsGenericMethod ? "generic" : null;
        if (problem is not null)
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.InvalidStepMethod, LocationOf(step), step.Name, problem));
            return false;
        }

        var returnTypeLocation = ReturnLocation(step);
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

    private static string Display(string fullyQualified) => fullyQualified.Replace("global::", string.Empty);

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
