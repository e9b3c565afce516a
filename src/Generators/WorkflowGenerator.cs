using System.Linq;
using Durably.Generators.Emitting;
using Durably.Generators.Model;
using Durably.Generators.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Durably.Generators;

/// <summary>Emits the step table, interceptors, typed client and DI registration of each <c>[DurableWorkflow]</c> class.</summary>
[Generator(LanguageNames.CSharp)]
public sealed class WorkflowGenerator : IIncrementalGenerator
{
    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var parsed = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                KnownNames.DurableWorkflowAttribute,
                predicate: static (node, _) => node is ClassDeclarationSyntax or RecordDeclarationSyntax,
                transform: static (ctx, ct) => WorkflowParser.Parse(ctx, ct))
            .WithTrackingName(TrackingNames.Workflows);

        // Interceptors must be enabled for the generated namespace; without them nothing is generated and that is the error.
        var interceptorsEnabled = context.ParseOptionsProvider
            .Select(static (options, _) => InterceptorsEnabled(options))
            .WithTrackingName(TrackingNames.InterceptorsEnabled);

        // Source and diagnostics leave separately: the model caches by value, diagnostics keep real locations.
        var models = parsed
            .Select(static (result, _) => result.Model)
            .Where(static model => model is not null)
            .Select(static (model, _) => model!)
            .WithTrackingName(TrackingNames.WorkflowModels)
            .Combine(interceptorsEnabled)
            .Where(static pair => pair.Right)
            .Select(static (pair, _) => pair.Left);

        // Whether the project serializes with fields: a source-generated JsonSerializerContext whose options say
        // IncludeFields = true. Then tuples and public fields survive the journal, and DURABLY0048 says so.
        var includeFields = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                KnownNames.JsonSourceGenerationOptionsAttribute,
                predicate: static (node, _) => node is ClassDeclarationSyntax,
                transform: static (ctx, _) => ctx.Attributes.Any(a => a.NamedArguments.Any(n => n.Key == "IncludeFields" && n.Value.Value is true)))
            .Collect()
            .Select(static (flags, _) => flags.Any(flag => flag))
            .WithTrackingName(TrackingNames.IncludeFields);

        var diagnostics = parsed
            .Combine(interceptorsEnabled)
            .Combine(includeFields)
            .Select(static (pair, _) =>
            {
                var ((result, enabled), fields) = pair;
                var reported = result.Reported(fields);
                return enabled
                    ? reported
                    : new EquatableArray<EquatableDiagnostic>([.. reported, new(Diagnostic.Create(DiagnosticDescriptors.InterceptorsNotEnabled, result.ClassLocation, result.ClassName))]);
            })
            .WithTrackingName(TrackingNames.Diagnostics);

        // Two outputs per workflow: its own part and client, which an edit that only moves call sites (typing in a
        // method body) leaves cached, and its interceptors, which every edit of its file changes (locations carry the
        // file's checksum).
        var parts = models.Select(static (model, _) => model.WithoutCallSites()).WithTrackingName(TrackingNames.WorkflowParts);
        context.RegisterSourceOutput(parts, static (spc, workflow) => spc.AddSource(workflow.HintName, WorkflowEmitter.Emit(workflow)));
        context.RegisterSourceOutput(models, static (spc, workflow) =>
        {
            if (workflow.HasCallSites)
            {
                spc.AddSource(workflow.InterceptorsHintName, WorkflowEmitter.EmitInterceptorsSource(workflow));
            }
        });

        // `dotnet build -t:DurablyAcceptContracts` asks for the contracts file; other builds write nothing.
        var accepting = context.AnalyzerConfigOptionsProvider
            .Select(static (options, _) => options.GlobalOptions.TryGetValue(KnownNames.AcceptContractsProperty, out var value)
                && string.Equals(value, "true", System.StringComparison.OrdinalIgnoreCase));

        // The accepted contracts (durably.contracts.json, when the project has one): changes that would break runs in
        // flight are errors, except while the accept command writes the file anew.
        var acceptedContracts = context.AdditionalTextsProvider
            .Where(static text => string.Equals(System.IO.Path.GetFileName(text.Path), AcceptedContracts.FileName, System.StringComparison.OrdinalIgnoreCase))
            .Select(static (text, cancellationToken) => AcceptedContracts.Read(text.Path, text.GetText(cancellationToken)?.ToString() ?? string.Empty))
            .Collect()
            .Select(static (files, _) => files.FirstOrDefault() ?? AcceptedContracts.None);
        var contractChecks = parsed
            .Combine(acceptedContracts)
            .Combine(accepting)
            .Select(static (pair, _) => pair.Right || pair.Left.Left.Model is null
                ? EquatableArray<EquatableDiagnostic>.Empty
                : ContractCheck.Compare(pair.Left.Left.Model, pair.Left.Left.ClassLocation, pair.Left.Right))
            .WithTrackingName(TrackingNames.ContractChecks);
        context.RegisterSourceOutput(contractChecks, static (spc, list) =>
        {
            foreach (var diagnostic in list)
            {
                spc.ReportDiagnostic(diagnostic.Diagnostic);
            }
        });
        context.RegisterSourceOutput(acceptedContracts.Combine(accepting), static (spc, pair) =>
        {
            if (pair.Left.Problem is { } problem && !pair.Right)
            {
                spc.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.ContractFileUnreadable,
                    Location.Create(pair.Left.Path, default, default), pair.Left.Path, problem));
            }
        });
        context.RegisterSourceOutput(models.Collect().Combine(accepting), static (spc, pair) =>
        {
            if (pair.Right)
            {
                spc.AddSource(ContractFileEmitter.HintName, ContractFileEmitter.Emit(pair.Left));
            }
        });
        // Two classes claiming one workflow name and version would meet only at host start: an error at build instead.
        var identities = parsed
            .Select(static (result, _) => result.Model is { } model ? new WorkflowIdentity(model.WorkflowName, model.Version, model.FullyQualifiedName.Replace("global::", string.Empty), result.ClassLocation) : null)
            .Where(static identity => identity is not null)
            .Collect()
            .WithTrackingName(TrackingNames.WorkflowIdentities);
        context.RegisterSourceOutput(identities, static (spc, all) =>
        {
            foreach (var clash in all.GroupBy(i => (i!.Name, i.Version)).Where(g => g.Count() > 1))
            {
                foreach (var identity in clash)
                {
                    var others = string.Join("', '", clash.Where(o => !ReferenceEquals(o, identity)).Select(o => o!.ClassName));
                    spc.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.DuplicateWorkflowVersion, identity!.Location, identity.ClassName, others, identity.Name, identity.Version));
                }
            }
        });

        context.RegisterSourceOutput(diagnostics, static (spc, list) =>
        {
            foreach (var diagnostic in list)
            {
                spc.ReportDiagnostic(diagnostic.Diagnostic);
            }
        });
    }

    /// <summary>The name and version a workflow class runs under, and where the class is declared.</summary>
    private sealed record WorkflowIdentity(string Name, int Version, string ClassName, Location Location);

    /// <summary>Whether the project lets <c>Durably.Generated</c> declare interceptors (what Durably's build props set up).</summary>
    internal static bool InterceptorsEnabled(ParseOptions options)
        => options.Features.Where(f => f.Key is "InterceptorsNamespaces" or "InterceptorsPreviewNamespaces")
            .SelectMany(f => f.Value.Split(';', ','))
            .Any(n => n.Trim() == KnownNames.GeneratedNamespace);
}
