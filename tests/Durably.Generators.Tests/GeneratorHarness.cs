using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Durably.Generators.Tests;

/// <summary>Compiles test sources against the real Durably API and runs the generator over them.</summary>
internal static class GeneratorHarness
{
    /// <summary>The parse options a project importing Durably's build props gets: interceptors enabled for Durably.Generated.</summary>
    public static readonly CSharpParseOptions ParseOptions = CSharpParseOptions.Default
        .WithLanguageVersion(LanguageVersion.Preview)
        .WithFeatures([new("InterceptorsNamespaces", "Durably.Generated")]);

    public static ImmutableArray<MetadataReference> References => s_references.Value;

    private static readonly Lazy<ImmutableArray<MetadataReference>> s_references = new(() =>
    {
        var platform = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        return
        [
            .. platform.Select(path => MetadataReference.CreateFromFile(path)),
            MetadataReference.CreateFromFile(typeof(Workflow).Assembly.Location),
            MetadataReference.CreateFromFile(typeof(Microsoft.Extensions.DependencyInjection.IServiceCollection).Assembly.Location),
        ];
    });

    public static CSharpCompilation Compile(params string[] sources) => Compile(ParseOptions, sources);

    public static CSharpCompilation Compile(CSharpParseOptions parseOptions, params string[] sources)
        => CSharpCompilation.Create(
            "TestAssembly",
            sources.Select((source, i) => CSharpSyntaxTree.ParseText(source, parseOptions, path: $"Source{i}.cs")),
            s_references.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    public static GeneratorDriver CreateDriver(CSharpParseOptions? parseOptions = null)
        => CSharpGeneratorDriver.Create(
            [new WorkflowGenerator().AsSourceGenerator()],
            parseOptions: parseOptions ?? ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Runs the generator; returns its result and the compilation with the generated sources added.</summary>
    public static (GeneratorDriverRunResult Result, Compilation Output) Run(params string[] sources)
    {
        var compilation = Compile(sources);
        var driver = CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        return (driver.GetRunResult(), output);
    }

    /// <summary>
    /// Runs the generator the way the compiler does and returns the diagnostics it reports after the compiler's
    /// filtering: <c>#pragma warning disable</c> marks a diagnostic in its span as suppressed.
    /// </summary>
    public static IReadOnlyList<Diagnostic> ReportedDiagnostics(params string[] sources)
    {
        CreateDriver().RunGeneratorsAndUpdateCompilation(Compile(sources), out _, out var diagnostics);
        return diagnostics;
    }

    /// <summary>Runs the generator over sources parsed with <paramref name="parseOptions"/> (e.g. without interceptors enabled).</summary>
    public static (GeneratorDriverRunResult Result, Compilation Output) RunWith(CSharpParseOptions parseOptions, params string[] sources)
    {
        var driver = CreateDriver(parseOptions).RunGeneratorsAndUpdateCompilation(Compile(parseOptions, sources), out var output, out _);
        return (driver.GetRunResult(), output);
    }

    /// <summary>
    /// Runs the generator, then Durably's analyzers over the result, as a build does; returns every diagnostic the
    /// analyzers and the generator reported (an analyzer exception shows as AD0001, a generator exception as CS8785).
    /// </summary>
    public static Task<IReadOnlyList<Diagnostic>> AnalyzeAsync(params string[] sources) => AnalyzeAsync(new Dictionary<string, string>(), sources);

    /// <summary>As <see cref="AnalyzeAsync(string[])"/>, with <paramref name="editorConfig"/> as every file's .editorconfig settings.</summary>
    public static Task<IReadOnlyList<Diagnostic>> AnalyzeAsync(Dictionary<string, string> editorConfig, params string[] sources)
        => AnalyzeAsync(Compile(sources), editorConfig);

    /// <summary>The generator's and the analyzers' diagnostics for <paramref name="compilation"/>, located in its own trees.</summary>
    public static async Task<IReadOnlyList<Diagnostic>> AnalyzeAsync(Compilation compilation, Dictionary<string, string>? editorConfig = null)
    {
        editorConfig ??= [];
        CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        var analyzers = typeof(WorkflowGenerator).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(Microsoft.CodeAnalysis.Diagnostics.DiagnosticAnalyzer)) && !t.IsAbstract)
            .Select(t => (Microsoft.CodeAnalysis.Diagnostics.DiagnosticAnalyzer)Activator.CreateInstance(t)!)
            .ToImmutableArray();
        var analyzed = await new Microsoft.CodeAnalysis.Diagnostics.CompilationWithAnalyzers(output, analyzers, new Microsoft.CodeAnalysis.Diagnostics.CompilationWithAnalyzersOptions(
            new Microsoft.CodeAnalysis.Diagnostics.AnalyzerOptions([], new EditorConfig(editorConfig)), onAnalyzerException: null, concurrentAnalysis: true, logAnalyzerExecutionTime: false))
            .GetAnalyzerDiagnosticsAsync();
        return [.. generatorDiagnostics, .. analyzed];
    }

    /// <summary>The errors of the compilation, generated code included, as readable lines.</summary>
    public static IReadOnlyList<string> Errors(Compilation compilation)
        => compilation.GetDiagnostics()
            .Where(d => d.Severity == DiagnosticSeverity.Error)
            .Select(d => d.ToString())
            .ToList();

    /// <summary>The same .editorconfig settings for every file.</summary>
    private sealed class EditorConfig(Dictionary<string, string> settings) : Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptionsProvider
    {
        private readonly Options _options = new(settings);

        public override Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions GlobalOptions => _options;

        public override Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions GetOptions(SyntaxTree tree) => _options;

        public override Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions GetOptions(AdditionalText textFile) => _options;

        private sealed class Options(Dictionary<string, string> settings) : Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions
        {
            public override bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value) => settings.TryGetValue(key, out value);
        }
    }
}
