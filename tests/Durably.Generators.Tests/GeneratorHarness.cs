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

    /// <summary>
    /// Runs the generator; returns its result and the compilation with the generated sources added. Every run is also an
    /// incrementality test: see <see cref="AssertCachedOnRerun"/>.
    /// </summary>
    public static (GeneratorDriverRunResult Result, Compilation Output) Run(params string[] sources)
        => RunWith(ParseOptions, sources);

    /// <summary>Runs the generator with <paramref name="contractsJson"/> as the project's durably.contracts.json; returns what it reported.</summary>
    public static IReadOnlyList<Diagnostic> ReportedWithContracts(string contractsJson, params string[] sources)
    {
        GeneratorDriver driver = CSharpGeneratorDriver.Create(
            [new WorkflowGenerator().AsSourceGenerator()], additionalTexts: [new Text("/project/durably.contracts.json", contractsJson)], parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
        var compilation = Compile(sources);
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics);
        AssertCachedOnRerun(driver, compilation);
        Assert.DoesNotContain(Errors(output), e => !e.Contains("DURABLY", StringComparison.Ordinal));
        return diagnostics;
    }

    private sealed class Text(string path, string content) : AdditionalText
    {
        public override string Path { get; } = path;

        public override Microsoft.CodeAnalysis.Text.SourceText GetText(CancellationToken cancellationToken = default) => Microsoft.CodeAnalysis.Text.SourceText.From(content);
    }

    /// <summary>Runs the generator with <paramref name="buildProperties"/> as the compiler-visible build properties.</summary>
    public static GeneratorDriverRunResult RunWithBuildProperties(Dictionary<string, string> buildProperties, params string[] sources)
    {
        var options = new EditorConfig(buildProperties.ToDictionary(p => "build_property." + p.Key, p => p.Value));
        GeneratorDriver driver = CSharpGeneratorDriver.Create(
            [new WorkflowGenerator().AsSourceGenerator()], optionsProvider: options, parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
        var compilation = Compile(sources);
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out _, out _);
        AssertCachedOnRerun(driver, compilation);
        return driver.GetRunResult();
    }

    /// <summary>
    /// Runs the generator the way the compiler does and returns the diagnostics it reports after the compiler's
    /// filtering: <c>#pragma warning disable</c> marks a diagnostic in its span as suppressed.
    /// </summary>
    public static IReadOnlyList<Diagnostic> ReportedDiagnostics(params string[] sources)
    {
        var compilation = Compile(sources);
        var driver = CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out _, out var diagnostics);
        AssertCachedOnRerun(driver, compilation);
        return diagnostics;
    }

    /// <summary>Runs the generator over sources parsed with <paramref name="parseOptions"/> (e.g. without interceptors enabled).</summary>
    public static (GeneratorDriverRunResult Result, Compilation Output) RunWith(CSharpParseOptions parseOptions, params string[] sources)
    {
        var compilation = Compile(parseOptions, sources);
        var driver = CreateDriver(parseOptions).RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        AssertCachedOnRerun(driver, compilation);
        return (driver.GetRunResult(), output);
    }

    /// <summary>
    /// Runs <paramref name="driver"/> again over a clone of <paramref name="compilation"/> — the same code — and requires
    /// every stage named in <see cref="TrackingNames"/> to report only <c>Cached</c> or <c>Unchanged</c> outputs, every
    /// source output to be cached, and no tracked value to hold a <see cref="Compilation"/>, <see cref="ISymbol"/>,
    /// <see cref="SemanticModel"/> or <see cref="SyntaxNode"/> (which would keep whole compilations alive and defeat the
    /// cache). NetEscapades.EnumGenerators' habit: every generator test checks caching, not only the incrementality tests.
    /// </summary>
    public static void AssertCachedOnRerun(GeneratorDriver driver, Compilation compilation)
    {
        var rerun = driver.RunGenerators(compilation.Clone()).GetRunResult().Results.Single();
        var stages = typeof(TrackingNames).GetFields().Select(f => (string)f.GetRawConstantValue()!).ToList();
        foreach (var stage in stages)
        {
            if (!rerun.TrackedSteps.TryGetValue(stage, out var steps))
            {
                continue;   // a stage no input reached (e.g. no model when every workflow had errors)
            }

            foreach (var output in steps.SelectMany(step => step.Outputs))
            {
                Assert.True(output.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged,
                    $"Stage {stage} re-ran with reason {output.Reason} on an unchanged compilation: its value is not equatable ({output.Value.GetType().Name}).");
                AssertHoldsNoCompilerObjects(output.Value, stage);
            }
        }

        Assert.All(rerun.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs),
            output => Assert.Equal(IncrementalStepRunReason.Cached, output.Reason));
    }

    private static void AssertHoldsNoCompilerObjects(object? value, string stage)
    {
        var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
        Visit(value, stage);

        void Visit(object? node, string path)
        {
            if (node is null || node is string || node.GetType().IsPrimitive || node.GetType().IsEnum || !seen.Add(node))
            {
                return;
            }

            Assert.False(node is Compilation or ISymbol or SemanticModel or SyntaxNode,
                $"{path} holds a {node.GetType().Name}: pipeline values must be plain data.");
            if (node is Diagnostic or Location)
            {
                return;   // kept on purpose in the parse result, so diagnostics keep real locations (see WorkflowParseResult)
            }

            if (node is System.Collections.IEnumerable items)
            {
                var i = 0;
                foreach (var item in items)
                {
                    Visit(item, $"{path}[{i++}]");
                }

                return;
            }

            foreach (var field in node.GetType().GetFields(System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic))
            {
                Visit(field.GetValue(node), path + "." + field.Name);
            }
        }
    }

    /// <summary>
    /// Runs the generator, then Durably's analyzers over the result, as a build does; returns every diagnostic the
    /// analyzers and the generator reported (an analyzer exception shows as AD0001, a generator exception as CS8785).
    /// </summary>
    public static Task<IReadOnlyList<Diagnostic>> AnalyzeAsync(params string[] sources) => AnalyzeAsync(new Dictionary<string, string>(), sources);

    /// <summary>As <see cref="AnalyzeAsync(string[])"/>, with <paramref name="editorConfig"/> as every file's .editorconfig settings.</summary>
    public static Task<IReadOnlyList<Diagnostic>> AnalyzeAsync(Dictionary<string, string> editorConfig, params string[] sources)
        => AnalyzeAsync(Compile(sources), editorConfig);

    /// <summary>Every analyzer of Durably's generator assembly, fresh instances.</summary>
    public static ImmutableArray<Microsoft.CodeAnalysis.Diagnostics.DiagnosticAnalyzer> Analyzers()
        => [.. typeof(WorkflowGenerator).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(Microsoft.CodeAnalysis.Diagnostics.DiagnosticAnalyzer)) && !t.IsAbstract)
            .Select(t => (Microsoft.CodeAnalysis.Diagnostics.DiagnosticAnalyzer)Activator.CreateInstance(t)!)];

    /// <summary>The generator's and the analyzers' diagnostics for <paramref name="compilation"/>, located in its own trees.</summary>
    public static async Task<IReadOnlyList<Diagnostic>> AnalyzeAsync(Compilation compilation, Dictionary<string, string>? editorConfig = null)
    {
        editorConfig ??= [];
        CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        var analyzed = await new Microsoft.CodeAnalysis.Diagnostics.CompilationWithAnalyzers(output, Analyzers(), new Microsoft.CodeAnalysis.Diagnostics.CompilationWithAnalyzersOptions(
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
