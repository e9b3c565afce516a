using System.Linq;
using Durably.Generators.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Durably.Generators.Analyzers;

/// <summary>
/// The rules about how workflow code uses what it calls, beside the banned APIs: awaits of calls that are not durable,
/// async lambdas nothing awaits, mutable static reads, injected loggers, endless wait loops, calls ordered by hash
/// collections and <c>ContinueWith</c> — and, in step bodies, the <c>Workflow</c> API.
/// </summary>
public sealed partial class DeterminismAnalyzer
{
    /// <summary>The symbols the rules compare with, resolved once per compilation.</summary>
    private sealed class Known(Compilation compilation, INamedTypeSymbol workflowType)
    {
        public INamedTypeSymbol WorkflowType { get; } = workflowType;

        public INamedTypeSymbol? WorkflowApi { get; } = compilation.GetTypeByMetadataName(KnownNames.WorkflowMetadataName);

        public INamedTypeSymbol? Logger { get; } = compilation.GetTypeByMetadataName("Microsoft.Extensions.Logging.ILogger");

        public INamedTypeSymbol? DurableClient { get; } = compilation.GetTypeByMetadataName("Durably.IDurableClient");

        public INamedTypeSymbol? TypedClient { get; } = compilation.GetTypeByMetadataName("Durably.WorkflowClient`1");

        public bool IsWorkflowApi(ISymbol? member) => member?.ContainingType is { } type && SymbolEqualityComparer.Default.Equals(type, WorkflowApi);

        /// <summary>A generated typed client's <c>RunAsChildAsync</c>: a child workflow, journaled by the parent.</summary>
        public bool IsChildRun(IMethodSymbol method) => method.Name == "RunAsChildAsync" && DerivesFromTypedClient(method.ContainingType);

        private bool DerivesFromTypedClient(INamedTypeSymbol? type)
        {
            for (var current = type; current is not null; current = current.BaseType)
            {
                if (SymbolEqualityComparer.Default.Equals(current.OriginalDefinition, TypedClient))
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>A start of a run through <c>IDurableClient</c> or a generated typed client.</summary>
        public bool IsClientStart(IMethodSymbol method)
        {
            if (method.Name != "StartAsync" || method.ContainingType is not { } type)
            {
                return false;
            }

            return SymbolEqualityComparer.Default.Equals(type, DurableClient) || type.AllInterfaces.Any(i => SymbolEqualityComparer.Default.Equals(i, DurableClient))
                || DerivesFromTypedClient(type);
        }

        /// <summary>A call whose outcome the journal keeps, or that only combines or wraps such calls.</summary>
        public bool IsDurable(IMethodSymbol method)
        {
            var target = method.ReducedFrom ?? method;
            if (WorkflowParserFacade.IsStep(target.OriginalDefinition) || WorkflowParser.HasAttribute(target.OriginalDefinition, KnownNames.SignalAttribute) || IsWorkflowApi(target)
                || IsChildRun(target))
            {
                return true;
            }

            // The workflow's own methods, and helpers elsewhere in the project, are followed: what they do is checked there.
            if (SymbolEqualityComparer.Default.Equals(target.ContainingType?.OriginalDefinition, WorkflowType.OriginalDefinition)
                || (target.IsStatic && target.Locations.Any(l => l.IsInSource)))
            {
                return true;
            }

            var type = target.ContainingType?.OriginalDefinition.ToDisplayString();
            return type is "System.Threading.Tasks.Task" or "System.Threading.Tasks.ValueTask" or "System.Threading.Tasks.Task<TResult>" or "System.Threading.Tasks.ValueTask<TResult>";
        }
    }

    /// <summary>The rule a use in workflow code (not a step body) breaks, beyond the banned APIs.</summary>
    private static Finding? ClassifyUse(IOperation operation, Known known)
    {
        switch (operation)
        {
            case IInvocationOperation { TargetMethod: var started } start when known.IsClientStart(started):
                return new Finding(DiagnosticDescriptors.ClientStartInWorkflow, start.Syntax.GetLocation(), started.ContainingType.Name + "." + started.Name);

            case IAwaitOperation { Operation: IInvocationOperation { TargetMethod: var awaited } invocation }
                when !known.IsDurable(awaited) && RuleFor(awaited.ContainingType.OriginalDefinition.ToDisplayString(), awaited.Name, awaited.ContainingType) is null
                    && !IsLogging(awaited, known) && !known.IsClientStart(awaited):
                return new Finding(DiagnosticDescriptors.NonDurableAwait, invocation.Syntax.GetLocation(), awaited.ContainingType.Name + "." + awaited.Name);

            case IAnonymousFunctionOperation { Symbol.IsAsync: true } lambda
                when lambda.Parent is IDelegateCreationOperation { Type: INamedTypeSymbol { DelegateInvokeMethod.ReturnsVoid: true } @delegate } creation:
                var receiver = creation.Parent is IArgumentOperation { Parent: IInvocationOperation call }
                    ? $"an async lambda passed as '{@delegate.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat)}' to '{call.TargetMethod.ContainingType.Name}.{call.TargetMethod.Name}'"
                    : $"an async lambda stored as '{@delegate.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat)}'";
                return new Finding(DiagnosticDescriptors.UnawaitedAsyncLambda, lambda.Syntax.GetLocation(), receiver);

            case IFieldReferenceOperation { Field: { IsStatic: true, IsConst: false, IsReadOnly: false } field } read when !IsWritten(read) && field.ContainingType.TypeKind != TypeKind.Enum:
                return new Finding(DiagnosticDescriptors.StaticRead, read.Syntax.GetLocation(), field.ContainingType.Name + "." + field.Name);

            case IPropertyReferenceOperation { Property: { IsStatic: true, SetMethod: not null } property } read
                when !IsWritten(read) && property.Locations.Any(l => l.IsInSource) && !known.IsWorkflowApi(property):
                return new Finding(DiagnosticDescriptors.StaticRead, read.Syntax.GetLocation(), property.ContainingType.Name + "." + property.Name);

            case IInvocationOperation logging when IsLogging(logging.TargetMethod, known) && !LogsThroughWorkflowLogger(logging, known):
                return new Finding(DiagnosticDescriptors.InjectedLogger, logging.Syntax.GetLocation(), logging.TargetMethod.Name);

            case IInvocationOperation { TargetMethod: { Name: "ContinueWith" } continuation } continueWith
                when continuation.ContainingType.OriginalDefinition.ToDisplayString() is "System.Threading.Tasks.Task" or "System.Threading.Tasks.Task<TResult>":
                return new Finding(DiagnosticDescriptors.ContinueWithInWorkflow, continueWith.Syntax.GetLocation(), "Task.ContinueWith");

            case IForEachLoopOperation loop when IsHashOrdered(loop.Collection) is { } collection && MakesDurableCalls(loop.Body, known):
                return new Finding(DiagnosticDescriptors.UnorderedIteration, loop.Collection.Syntax.GetLocation(), $"foreach over '{collection}'");

            case IInvocationOperation { TargetMethod: { Name: "Select" or "SelectMany" or "ForEach" } projection } query
                when query.Arguments.Length > 0 && (query.Instance ?? query.Arguments[0].Value) is { } source && IsHashOrdered(source) is { } projected
                    && query.Arguments.Any(a => a.Value is IDelegateCreationOperation d && MakesDurableCalls(d, known)):
                return new Finding(DiagnosticDescriptors.UnorderedIteration, source.Syntax.GetLocation(), $"{projection.Name} over '{projected}'");

            case ILoopOperation loop when IsEndless(loop) && MakesDurableCalls(loop.Body, known) && !LeavesOrContinuesAsNew(loop.Body, known):
                return new Finding(DiagnosticDescriptors.UnboundedWaitLoop, loop.Syntax.GetFirstToken().GetLocation(), LoopHead(loop));

            default:
                return null;
        }
    }

    /// <summary>A <c>Workflow.*</c> member used in a step body, as the message names it; else null.</summary>
    private static Finding? ClassifyInStep(IOperation operation, Known known) => operation switch
    {
        IInvocationOperation invocation when known.IsWorkflowApi(invocation.TargetMethod) => new Finding(DiagnosticDescriptors.WorkflowApiInStep, invocation.Syntax.GetLocation(), "Workflow." + invocation.TargetMethod.Name),
        IPropertyReferenceOperation property when known.IsWorkflowApi(property.Property) => new Finding(DiagnosticDescriptors.WorkflowApiInStep, property.Syntax.GetLocation(), "Workflow." + property.Property.Name),
        _ => null,
    };

    private static bool IsWritten(IOperation reference) => reference.Parent switch
    {
        IAssignmentOperation assignment => ReferenceEquals(assignment.Target, reference),
        IIncrementOrDecrementOperation => true,
        _ => false,
    };

    /// <summary>A logging call on an <c>ILogger</c> (its methods or the <c>LoggerExtensions</c> helpers).</summary>
    private static bool IsLogging(IMethodSymbol method, Known known)
    {
        var target = method.ReducedFrom ?? method;
        return known.Logger is { } logger
            && (SymbolEqualityComparer.Default.Equals(target.ContainingType, logger)
                || target.ContainingType.AllInterfaces.Contains(logger, SymbolEqualityComparer.Default)
                || (target.IsExtensionMethod && target.Parameters.FirstOrDefault()?.Type is { } first
                    && (SymbolEqualityComparer.Default.Equals(first, logger) || first.AllInterfaces.Contains(logger, SymbolEqualityComparer.Default))));
    }

    private static bool LogsThroughWorkflowLogger(IInvocationOperation call, Known known)
    {
        var receiver = call.Instance ?? call.Arguments.FirstOrDefault()?.Value;
        while (receiver is IConversionOperation conversion)
        {
            receiver = conversion.Operand;
        }

        return receiver is IPropertyReferenceOperation property && known.IsWorkflowApi(property.Property);
    }

    /// <summary>The collection's type when it is ordered by hashes (a hash set or dictionary, or their keys or values); else null.</summary>
    private static string? IsHashOrdered(IOperation collection)
    {
        while (collection is IConversionOperation conversion)
        {
            collection = conversion.Operand;
        }

        if (collection.Type is not INamedTypeSymbol type)
        {
            return null;
        }

        var name = type.OriginalDefinition.ToDisplayString();
        var hashed = name.StartsWith("System.Collections.Generic.HashSet<", System.StringComparison.Ordinal)
            || name.StartsWith("System.Collections.Generic.Dictionary<", System.StringComparison.Ordinal)
            || name.StartsWith("System.Collections.Concurrent.ConcurrentDictionary<", System.StringComparison.Ordinal)
            || name.StartsWith("System.Collections.Concurrent.ConcurrentBag<", System.StringComparison.Ordinal)
            || name.StartsWith("System.Collections.Immutable.ImmutableHashSet<", System.StringComparison.Ordinal)
            || name.StartsWith("System.Collections.Immutable.ImmutableDictionary<", System.StringComparison.Ordinal)
            || name.StartsWith("System.Collections.Generic.ISet<", System.StringComparison.Ordinal)
            || name.StartsWith("System.Collections.Generic.IReadOnlySet<", System.StringComparison.Ordinal)
            || name.StartsWith("System.Collections.Generic.IDictionary<", System.StringComparison.Ordinal)
            || name.StartsWith("System.Collections.Generic.IReadOnlyDictionary<", System.StringComparison.Ordinal)
            || (type.ContainingType is { } owner && IsHashOrderedName(owner.OriginalDefinition.ToDisplayString()) && type.Name is "KeyCollection" or "ValueCollection");
        return hashed ? type.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat) : null;

        static bool IsHashOrderedName(string owner) => owner.StartsWith("System.Collections.Generic.Dictionary<", System.StringComparison.Ordinal);
    }

    /// <summary>Whether <paramref name="body"/> calls a step, a signal wait or the <c>Workflow</c> API.</summary>
    private static bool MakesDurableCalls(IOperation? body, Known known)
        => body is not null && body.DescendantsAndSelf().OfType<IInvocationOperation>().Any(i =>
            WorkflowParserFacade.IsStep(i.TargetMethod.OriginalDefinition) || WorkflowParser.HasAttribute(i.TargetMethod.OriginalDefinition, KnownNames.SignalAttribute)
            || (known.IsWorkflowApi(i.TargetMethod) && i.TargetMethod.Name is "SleepAsync" or "SleepUntilAsync" or "WaitForSignalAsync"));

    /// <summary>How the message names the loop: <c>while (true)</c>, <c>for (;;)</c>, <c>do … while (true)</c>.</summary>
    private static string LoopHead(ILoopOperation loop) => loop switch
    {
        IWhileLoopOperation { ConditionIsTop: false } => "do … while (true)",
        IWhileLoopOperation { Condition: { } condition } => $"while ({condition.Syntax})",
        IForLoopOperation { Condition: { } condition } => $"for (…; {condition.Syntax}; …)",
        IForLoopOperation => "for (;;)",
        _ => "the loop",
    };

    /// <summary><c>while (true)</c>, <c>for (;;)</c>, <c>do … while (true)</c>.</summary>
    private static bool IsEndless(ILoopOperation loop) => loop switch
    {
        IWhileLoopOperation { Condition: null } => true,
        IWhileLoopOperation { Condition.ConstantValue: { HasValue: true, Value: true } } => true,
        IForLoopOperation { Condition: null } => true,
        IForLoopOperation { Condition.ConstantValue: { HasValue: true, Value: true } } => true,
        _ => false,
    };

    /// <summary>Whether the loop body can leave the loop (break, return, throw) or continues the run as new.</summary>
    private static bool LeavesOrContinuesAsNew(IOperation body, Known known)
        => body.DescendantsAndSelf().Any(o => o is IReturnOperation or IThrowOperation
            || (o is IBranchOperation { BranchKind: BranchKind.Break } branch && !IsInNestedLoopOrSwitch(branch, body))
            || (o is IInvocationOperation i && known.IsWorkflowApi(i.TargetMethod) && i.TargetMethod.Name == "ContinueAsNew"));

    private static bool IsInNestedLoopOrSwitch(IOperation branch, IOperation body)
    {
        for (var parent = branch.Parent; parent is not null && !ReferenceEquals(parent, body); parent = parent.Parent)
        {
            if (parent is ILoopOperation or ISwitchOperation)
            {
                return true;
            }
        }

        return false;
    }
}
