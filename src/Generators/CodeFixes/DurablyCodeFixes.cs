using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Durably.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Simplification;

namespace Durably.CodeFixes;

/// <summary>DURABLY0001: adds <c>partial</c> to the workflow class.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(AddPartialFix)), Shared]
public sealed class AddPartialFix : CodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ["DURABLY0001"];

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root?.FindToken(context.Span.Start).Parent?.AncestorsAndSelf().OfType<ClassDeclarationSyntax>().FirstOrDefault() is not { } declaration)
        {
            return;
        }

        context.RegisterCodeFix(
            CodeAction.Create("Make the workflow class partial", _ =>
            {
                var partial = SyntaxFactory.Token(SyntaxKind.PartialKeyword).WithTrailingTrivia(SyntaxFactory.Space);
                // 'partial' goes last among the modifiers, right before 'class'.
                var updated = declaration.Modifiers.Count == 0
                    ? declaration.WithKeyword(declaration.Keyword.WithLeadingTrivia(SyntaxFactory.TriviaList()))
                        .WithModifiers(SyntaxFactory.TokenList(partial.WithLeadingTrivia(declaration.Keyword.LeadingTrivia)))
                    : declaration.WithModifiers(declaration.Modifiers.Add(partial));
                return Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(declaration, updated)));
            }, nameof(AddPartialFix)),
            context.Diagnostics);
    }
}

/// <summary>
/// DURABLY0029, 0030, 0032: replaces a clock read, a new GUID or a timer by its journaled counterpart —
/// <c>DateTime.UtcNow</c> → <c>Workflow.Now.UtcDateTime</c>, <c>DateTimeOffset.UtcNow</c> → <c>Workflow.Now</c>,
/// <c>Guid.NewGuid()</c> → <c>Workflow.NewGuid()</c>, <c>Task.Delay(x)</c> → <c>Workflow.SleepAsync(x)</c>.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UseWorkflowApiFix)), Shared]
public sealed class UseWorkflowApiFix : CodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ["DURABLY0029", "DURABLY0030", "DURABLY0032"];

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null || model is null)
        {
            return;
        }

        foreach (var diagnostic in context.Diagnostics)
        {
            var node = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true);
            if (Replacement(node, model, context.CancellationToken) is not { } replacement)
            {
                continue;
            }

            context.RegisterCodeFix(
                CodeAction.Create(replacement.Title, _ => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(replacement.Old, replacement.New))), replacement.Title),
                diagnostic);
        }
    }

    private static (string Title, SyntaxNode Old, ExpressionSyntax New)? Replacement(SyntaxNode node, SemanticModel model, CancellationToken cancellationToken)
    {
        var expression = node as ExpressionSyntax ?? node.FirstAncestorOrSelf<ExpressionSyntax>();
        if (expression is null)
        {
            return null;
        }

        switch (model.GetSymbolInfo(expression, cancellationToken).Symbol)
        {
            case IPropertySymbol { Name: "UtcNow" or "Now" } property when property.ContainingType.ToDisplayString() is "System.DateTime" or "System.DateTimeOffset":
            {
                var suffix = (property.ContainingType.Name, property.Name) switch
                {
                    ("DateTime", "UtcNow") => ".UtcDateTime",
                    ("DateTime", _) => ".LocalDateTime",
                    ("DateTimeOffset", "Now") => ".ToLocalTime()",
                    _ => string.Empty,
                };
                return ("Use Workflow.Now", expression, Workflow("Now" + suffix, expression));
            }

            case IMethodSymbol { Name: "NewGuid" } method when method.ContainingType.ToDisplayString() == "System.Guid" && expression is InvocationExpressionSyntax:
                return ("Use Workflow.NewGuid()", expression, Workflow("NewGuid()", expression));
            case IMethodSymbol { Name: "Delay" } delay when delay.ContainingType.ToDisplayString() == "System.Threading.Tasks.Task" && expression is InvocationExpressionSyntax call:
            {
                var first = call.ArgumentList.Arguments.FirstOrDefault()?.Expression;
                if (first is null)
                {
                    return null;
                }

                // Task.Delay(int) counts milliseconds; SleepAsync takes a TimeSpan. A token is not needed: cancellation is the engine's.
                var isMilliseconds = model.GetTypeInfo(first, cancellationToken).Type?.SpecialType == SpecialType.System_Int32;
                var argument = isMilliseconds ? "global::System.TimeSpan.FromMilliseconds(" + first.WithoutTrivia().ToFullString() + ")" : first.WithoutTrivia().ToFullString();
                return ("Use Workflow.SleepAsync", expression, Workflow("SleepAsync(" + argument + ")", expression));
            }

            default:
                return null;
        }
    }

    /// <summary><c>Workflow.{member}</c>, written fully qualified and marked so the IDE shortens every name it can.</summary>
    internal static ExpressionSyntax Workflow(string member, ExpressionSyntax replaced)
    {
        var expression = SyntaxFactory.ParseExpression(KnownNames.Workflow + "." + member);
        return expression
            .ReplaceNodes(expression.DescendantNodesAndSelf().OfType<MemberAccessExpressionSyntax>(), (_, rewritten) => rewritten.WithAdditionalAnnotations(Simplifier.Annotation))
            .WithTriviaFrom(replaced)
            .WithAdditionalAnnotations(Simplifier.Annotation);
    }
}

/// <summary>DURABLY0006: turns a step used as a method group into a lambda that calls it, which is intercepted.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MethodGroupToLambdaFix)), Shared]
public sealed class MethodGroupToLambdaFix : CodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ["DURABLY0006"];

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        if (root?.FindNode(context.Span, getInnermostNodeForTie: true) is not SimpleNameSyntax name || model is null)
        {
            return;
        }

        ExpressionSyntax group = name.Parent is MemberAccessExpressionSyntax access && access.Name == name ? access : name;
        var info = model.GetSymbolInfo(group, context.CancellationToken);
        if ((info.Symbol ?? info.CandidateSymbols.FirstOrDefault()) is not IMethodSymbol step)
        {
            return;
        }

        var parameters = step.Parameters.Where(p => p.Type.ToDisplayString() != "System.Threading.CancellationToken").Select(p => p.Name).ToList();
        var list = string.Join(", ", parameters);
        var lambda = SyntaxFactory.ParseExpression((parameters.Count == 1 ? list : "(" + list + ")") + " => " + group.WithoutTrivia().ToFullString() + "(" + list + ")")
            .WithTriviaFrom(group);
        context.RegisterCodeFix(
            CodeAction.Create("Call the step from a lambda", _ => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(group, lambda))), nameof(MethodGroupToLambdaFix)),
            context.Diagnostics);
    }
}

/// <summary>DURABLY0053: logs through <c>Workflow.Logger</c> instead of the injected logger.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UseWorkflowLoggerFix)), Shared]
public sealed class UseWorkflowLoggerFix : CodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ["DURABLY0053"];

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root?.FindNode(context.Span, getInnermostNodeForTie: true).FirstAncestorOrSelf<InvocationExpressionSyntax>() is not { Expression: MemberAccessExpressionSyntax access })
        {
            return;
        }

        var logger = UseWorkflowApiFix.Workflow("Logger", access.Expression);
        context.RegisterCodeFix(
            CodeAction.Create("Log through Workflow.Logger", _ => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(access.Expression, logger))), nameof(UseWorkflowLoggerFix)),
            context.Diagnostics);
    }
}

/// <summary>
/// DURABLY0055: iterates a hash set or dictionary in a fixed order — <c>.Order()</c>, or <c>.OrderBy(p =&gt; p.Key)</c>
/// for a dictionary; strings by ordinal comparison, which no culture setting changes.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(SortIterationFix)), Shared]
public sealed class SortIterationFix : CodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ["DURABLY0055"];

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is not CompilationUnitSyntax unit || model is null
            || root.FindNode(context.Span, getInnermostNodeForTie: true) is not ExpressionSyntax collection
            || model.GetTypeInfo(collection, context.CancellationToken).Type is not INamedTypeSymbol type
            || type.AllInterfaces.Concat([type]).FirstOrDefault(i => i.OriginalDefinition.SpecialType == SpecialType.System_Collections_Generic_IEnumerable_T) is not { } enumerable)
        {
            return;
        }

        var element = enumerable.TypeArguments[0];
        var pair = element is INamedTypeSymbol { Name: "KeyValuePair", TypeArguments.Length: 2 } kv ? kv : null;
        var ordinal = (pair?.TypeArguments[0] ?? element).SpecialType == SpecialType.System_String ? "global::System.StringComparer.Ordinal" : null;
        var call = pair is not null
            ? ".OrderBy(p => p.Key" + (ordinal is null ? ")" : ", " + ordinal + ")")
            : ".Order(" + ordinal + ")";
        var sorted = SyntaxFactory.ParseExpression("(" + collection.WithoutTrivia().ToFullString() + ")" + call);
        sorted = sorted.ReplaceNodes(sorted.DescendantNodesAndSelf().Where(n => n is MemberAccessExpressionSyntax or ParenthesizedExpressionSyntax), (_, rewritten) => rewritten.WithAdditionalAnnotations(Simplifier.Annotation))
            .WithTriviaFrom(collection)
            .WithAdditionalAnnotations(Simplifier.Annotation);
        context.RegisterCodeFix(
            CodeAction.Create("Iterate it sorted", _ =>
            {
                var fixedRoot = (CompilationUnitSyntax)unit.ReplaceNode(collection, sorted);
                if (!fixedRoot.Usings.Any(u => u.Name?.ToString() == "System.Linq"))
                {
                    fixedRoot = fixedRoot.AddUsings(SyntaxFactory.UsingDirective(SyntaxFactory.ParseName("System.Linq")).NormalizeWhitespace().WithTrailingTrivia(SyntaxFactory.ElasticCarriageReturnLineFeed));
                }

                return Task.FromResult(context.Document.WithSyntaxRoot(fixedRoot));
            }, nameof(SortIterationFix)),
            context.Diagnostics);
    }
}
