using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Durably.Generators.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Durably.Generators.Analyzers;

/// <summary>
/// Finds what makes a run method non-deterministic — clock reads, new GUIDs, random numbers, timers, other threads,
/// <c>ConfigureAwait(false)</c>, I/O, environment reads, static writes, and APIs banned in <c>.editorconfig</c> — in the
/// <c>[WorkflowRun]</c> method and, transitively, in every method of the workflow it calls; steps are the boundary, where
/// I/O is allowed. Each diagnostic is reported where the API is used, with the call chain from the run method.
/// </summary>
/// <remarks>
/// More APIs can be banned per project: <c>durably_banned_apis = System.Environment.MachineName, MyCompany.Clock</c> in
/// <c>.editorconfig</c> (a type bans all its members; separated by commas or semicolons).
/// </remarks>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed partial class DeterminismAnalyzer : DiagnosticAnalyzer
{
    /// <summary>The <c>.editorconfig</c> key listing more banned APIs.</summary>
    public const string BannedApisKey = "durably_banned_apis";

    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
    [
        DiagnosticDescriptors.ClockRead, DiagnosticDescriptors.NewGuid, DiagnosticDescriptors.RandomNumbers, DiagnosticDescriptors.UnjournaledDelay,
        DiagnosticDescriptors.OtherThread, DiagnosticDescriptors.ConfigureAwaitFalse, DiagnosticDescriptors.WorkflowIo, DiagnosticDescriptors.EnvironmentRead,
        DiagnosticDescriptors.StaticWrite, DiagnosticDescriptors.BannedApi, DiagnosticDescriptors.NonDurableAwait, DiagnosticDescriptors.UnawaitedAsyncLambda,
        DiagnosticDescriptors.WorkflowApiInStep, DiagnosticDescriptors.StaticRead, DiagnosticDescriptors.InjectedLogger, DiagnosticDescriptors.UnboundedWaitLoop,
        DiagnosticDescriptors.UnorderedIteration, DiagnosticDescriptors.ContinueWithInWorkflow, DiagnosticDescriptors.ClientStartInWorkflow,
    ];

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            if (start.Compilation.GetTypeByMetadataName(KnownNames.DurableWorkflowAttribute) is not { } workflowAttribute)
            {
                return;
            }

            start.RegisterSymbolStartAction(symbol => AnalyzeWorkflow(symbol, workflowAttribute), SymbolKind.NamedType);
        });
    }

    private static void AnalyzeWorkflow(SymbolStartAnalysisContext context, INamedTypeSymbol workflowAttribute)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        if (!type.GetAttributes().Any(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, workflowAttribute)))
        {
            return;
        }

        var known = new Known(context.Compilation, type);
        var methods = new ConcurrentDictionary<IMethodSymbol, MethodFacts>(SymbolEqualityComparer.Default);
        context.RegisterOperationBlockAction(block =>
        {
            if (block.OwningSymbol is not IMethodSymbol method)
            {
                return;
            }

            if (WorkflowParserFacade.IsStep(method))
            {
                // A step body runs off the run's scheduler: the Workflow API throws there.
                foreach (var finding in block.OperationBlocks.SelectMany(b => b.DescendantsAndSelf()).Select(o => ClassifyInStep(o, known)).OfType<Finding>())
                {
                    block.ReportDiagnostic(Diagnostic.Create(finding.Rule, finding.Location, finding.Api, method.Name));
                }

                return;
            }

            var banned = BannedApis.Read(block.Options, block.OperationBlocks.FirstOrDefault()?.Syntax.SyntaxTree);
            Collect(methods.GetOrAdd(method, _ => new MethodFacts()), block.OperationBlocks, banned, known);
        });

        context.RegisterSymbolEndAction(end =>
        {
            // Breadth-first from the run methods, so each method is reached by its shortest chain.
            var chains = new Dictionary<IMethodSymbol, string>(SymbolEqualityComparer.Default);
            var queue = new Queue<IMethodSymbol>();
            foreach (var run in type.GetMembers().OfType<IMethodSymbol>().Where(m => WorkflowParser.HasAttribute(m, KnownNames.WorkflowRunAttribute)))
            {
                chains[run] = run.Name;
                queue.Enqueue(run);
            }

            while (queue.Count > 0)
            {
                var method = queue.Dequeue();
                if (!methods.TryGetValue(method, out var facts) && (facts = HelperFacts(method, end, known)) is null)
                {
                    continue;
                }

                foreach (var finding in facts.Findings)
                {
                    end.ReportDiagnostic(Diagnostic.Create(finding.Rule, finding.Location, chains[method] + " → " + finding.Api));
                }

                foreach (var callee in facts.Calls)
                {
                    if (!chains.ContainsKey(callee))
                    {
                        chains[callee] = chains[method] + " → " + callee.Name;
                        queue.Enqueue(callee);
                    }
                }
            }
        });
    }

    /// <summary>
    /// Records what the operations of one method of workflow code do: the rules they break, and the methods they call
    /// that are followed — the workflow's own, and any other method declared in the project (a helper in another class).
    /// </summary>
    private static void Collect(MethodFacts facts, IEnumerable<IOperation> blocks, BannedApis banned, Known known)
    {
        var findings = new List<Finding>();
        foreach (var operation in blocks.SelectMany(b => b.DescendantsAndSelf()))
        {
            if (operation is IInvocationOperation { TargetMethod: var callee } && !WorkflowParserFacade.IsStep(callee.OriginalDefinition)
                && (SymbolEqualityComparer.Default.Equals(callee.ContainingType?.OriginalDefinition, known.WorkflowType.OriginalDefinition)
                    || (callee.OriginalDefinition.Locations.Any(l => l.IsInSource) && !callee.OriginalDefinition.IsAbstract)))
            {
                facts.Calls.Add(callee.OriginalDefinition);
            }

            if ((Classify(operation, banned) ?? ClassifyUse(operation, known)) is { } finding)
            {
                findings.Add(finding);
            }
        }

        // One diagnostic per expression: Random.Shared.Next() is one use of randomness, not two.
        foreach (var finding in findings)
        {
            if (!findings.Any(outer => !ReferenceEquals(outer, finding) && outer.Rule == finding.Rule
                && outer.Location.SourceSpan.Contains(finding.Location.SourceSpan) && outer.Location.SourceSpan != finding.Location.SourceSpan))
            {
                facts.Findings.Add(finding);
            }
        }
    }

    /// <summary>
    /// What a method outside the workflow class does, read on demand when workflow code calls it (a static helper in
    /// another class, a service's method): its operations are not visited from the workflow's own symbol scope.
    /// </summary>
    private static MethodFacts? HelperFacts(IMethodSymbol method, SymbolAnalysisContext end, Known known)
    {
        var blocks = new List<IOperation>();
        foreach (var reference in method.DeclaringSyntaxReferences)
        {
            var syntax = reference.GetSyntax(end.CancellationToken);
#pragma warning disable RS1030 // The helper's body is in another type's scope: its operations are read here, once per workflow that calls it.
            var model = end.Compilation.GetSemanticModel(syntax.SyntaxTree);
#pragma warning restore RS1030
            if (model.GetOperation(syntax, end.CancellationToken) is { } operation)
            {
                blocks.Add(operation);
            }
        }

        if (blocks.Count == 0)
        {
            return null;
        }

        var facts = new MethodFacts();
        Collect(facts, blocks, BannedApis.Read(end.Options, blocks[0].Syntax.SyntaxTree), known);
        return facts;
    }

    /// <summary>The rule <paramref name="operation"/> breaks, if any, with the API named as the message shows it.</summary>
    private static Finding? Classify(IOperation operation, BannedApis banned)
    {
        switch (operation)
        {
            case IInvocationOperation invocation:
            {
                var method = invocation.TargetMethod;
                var api = method.ContainingType.Name + "." + method.Name;
                if (method.Name == "ConfigureAwait" && IsConfigureAwaitFalse(invocation))
                {
                    return new Finding(DiagnosticDescriptors.ConfigureAwaitFalse, invocation.Syntax.GetLocation(), "ConfigureAwait(false)");
                }

                return Member(method, api, invocation.Syntax.GetLocation(), banned);
            }

            case IPropertyReferenceOperation property:
                return Member(property.Property, property.Property.ContainingType.Name + "." + property.Property.Name, property.Syntax.GetLocation(), banned);
            case IObjectCreationOperation { Constructor: { } constructor } creation:
                return Member(constructor, "new " + constructor.ContainingType.Name, creation.Syntax.GetLocation(), banned);
            case ISimpleAssignmentOperation { Target: IFieldReferenceOperation { Field: { IsStatic: true, IsConst: false } field } } assignment:
                return new Finding(DiagnosticDescriptors.StaticWrite, assignment.Syntax.GetLocation(), field.ContainingType.Name + "." + field.Name + " = …");
            case ICompoundAssignmentOperation { Target: IFieldReferenceOperation { Field: { IsStatic: true, IsConst: false } field } } compound:
                return new Finding(DiagnosticDescriptors.StaticWrite, compound.Syntax.GetLocation(), field.ContainingType.Name + "." + field.Name + " (compound assignment)");
            case IIncrementOrDecrementOperation { Target: IFieldReferenceOperation { Field: { IsStatic: true, IsConst: false } field } } step:
                return new Finding(DiagnosticDescriptors.StaticWrite, step.Syntax.GetLocation(), field.ContainingType.Name + "." + field.Name + (step.Kind == OperationKind.Increment ? "++" : "--"));
            default:
                return null;
        }
    }

    private static Finding? Member(ISymbol member, string api, Location location, BannedApis banned)
    {
        var type = member.ContainingType;
        if (type is null)
        {
            return null;
        }

        var typeName = type.OriginalDefinition.ToDisplayString();
        var rule = RuleFor(typeName, member.Name, type);
        if (rule is null && banned.Contains(typeName, member.Name))
        {
            rule = DiagnosticDescriptors.BannedApi;
        }

        return rule is null ? null : new Finding(rule, location, api);
    }

    /// <summary>The built-in rule for member <paramref name="name"/> of <paramref name="typeName"/>, if it is banned.</summary>
    private static DiagnosticDescriptor? RuleFor(string typeName, string name, INamedTypeSymbol type)
    {
        switch (typeName)
        {
            case "System.DateTime" when name is "Now" or "UtcNow" or "Today":
            case "System.DateTimeOffset" when name is "Now" or "UtcNow":
            case "System.Environment" when name is "TickCount" or "TickCount64":
            case "System.Diagnostics.Stopwatch":
                return DiagnosticDescriptors.ClockRead;
            case "System.Guid" when name == "NewGuid":
                return DiagnosticDescriptors.NewGuid;
            // Where a Random comes from is what matters: new Random() and Random.Shared, not calls on Workflow.Random.
            case "System.Random" when name is ".ctor" or "Shared":
            case "System.Security.Cryptography.RandomNumberGenerator":
                return DiagnosticDescriptors.RandomNumbers;
            case "System.Threading.Tasks.Task" when name == "Delay":
            case "System.Threading.Thread" when name == "Sleep":
                return DiagnosticDescriptors.UnjournaledDelay;
            case "System.Threading.Tasks.Task" when name is "Run" or "Factory":
            case "System.Threading.Tasks.TaskFactory":
            case "System.Threading.Tasks.Parallel":
            case "System.Threading.Thread" when name == ".ctor":
            case "System.Threading.ThreadPool":
                return DiagnosticDescriptors.OtherThread;
            case "System.Environment" when name is "GetEnvironmentVariable" or "GetEnvironmentVariables" or "SetEnvironmentVariable" or "ExpandEnvironmentVariables":
                return DiagnosticDescriptors.EnvironmentRead;
        }

        if (InheritsFrom(type, "System.TimeProvider"))
        {
            return DiagnosticDescriptors.ClockRead;
        }

        return typeName is "System.IO.File" or "System.IO.Directory" or "System.IO.FileInfo" or "System.IO.DirectoryInfo" or "System.IO.FileStream"
                || typeName.StartsWith("Npgsql.", StringComparison.Ordinal)
                || InheritsFrom(type, "System.Net.Http.HttpMessageInvoker")
                || InheritsFrom(type, "System.Data.Common.DbConnection")
                || InheritsFrom(type, "System.Data.Common.DbCommand")
                || InheritsFrom(type, "System.Data.Common.DbDataReader")
            ? DiagnosticDescriptors.WorkflowIo
            : null;
    }

    private static bool InheritsFrom(INamedTypeSymbol type, string baseName)
    {
        for (INamedTypeSymbol? current = type; current is not null; current = current.BaseType)
        {
            if (current.ToDisplayString() == baseName)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary><c>ConfigureAwait(false)</c>, or <c>ConfigureAwait(options)</c> without <c>ContinueOnCapturedContext</c>.</summary>
    private static bool IsConfigureAwaitFalse(IInvocationOperation invocation)
        => invocation.Arguments.FirstOrDefault()?.Value.ConstantValue is { HasValue: true, Value: var value }
            && (value is false || (value is int flags && (flags & 1) == 0 && invocation.Arguments[0].Value.Type?.Name == "ConfigureAwaitOptions"));

    private sealed record Finding(DiagnosticDescriptor Rule, Location Location, string Api);

    /// <summary>What one method of the workflow does: the banned APIs it uses and the methods of the workflow it calls.</summary>
    private sealed class MethodFacts
    {
        public ConcurrentBag<Finding> Findings { get; } = [];

        public ConcurrentBag<IMethodSymbol> Calls { get; } = [];
    }

    /// <summary>The extra APIs <c>durably_banned_apis</c> lists: whole types, or <c>Type.Member</c>.</summary>
    private sealed class BannedApis
    {
        private static readonly BannedApis s_none = new(ImmutableHashSet<string>.Empty);
        private readonly ImmutableHashSet<string> _names;

        private BannedApis(ImmutableHashSet<string> names) => _names = names;

        public static BannedApis Read(AnalyzerOptions options, SyntaxTree? tree)
            => tree is not null && options.AnalyzerConfigOptionsProvider.GetOptions(tree).TryGetValue(BannedApisKey, out var value) && value.Trim().Length > 0
                ? new BannedApis(value.Split([',', ';'], StringSplitOptions.RemoveEmptyEntries).Select(n => n.Trim()).Where(n => n.Length > 0).ToImmutableHashSet(StringComparer.Ordinal))
                : s_none;

        public bool Contains(string typeName, string member)
            => _names.Count > 0 && (_names.Contains(typeName) || _names.Contains(typeName + "." + member) || (member.StartsWith("get_", StringComparison.Ordinal) && _names.Contains(typeName + "." + member.Substring(4))));
    }
}

/// <summary>The parser's attribute checks, for the analyzers.</summary>
internal static class WorkflowParserFacade
{
    public static bool IsStep(IMethodSymbol method) => WorkflowParser.HasAttribute(method, KnownNames.StepAttribute);
}
