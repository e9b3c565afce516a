using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Durably.Generators.Tests;

/// <summary>
/// One C# file per shape of user code under <c>Scenarios/</c>, each with its expected outcome beside it in
/// <c>&lt;name&gt;.txt</c>: every warning and error of the build (Durably's generator and analyzers and the compiler),
/// then, when the build has no error and the file declares <c>Scenario.RunAsync()</c>, what that returned after running
/// on the real engine. Whatever a file expects, no warning or error may sit in generated code. A mismatch writes
/// <c>&lt;name&gt;.received.txt</c>; <c>DURABLY_ACCEPT_SNAPSHOTS=1</c> accepts it.
/// </summary>
public sealed class ScenarioTests
{
    private static readonly string s_directory = Path.Combine(SourceDirectory(), "Scenarios");

    /// <summary>System.Text.Json's source generator, from the targeting pack the tests run against.</summary>
    private static readonly Lazy<ISourceGenerator[]> s_jsonGenerators = new(() =>
    {
        var runtime = Path.GetDirectoryName(typeof(object).Assembly.Location)!;   // …/shared/Microsoft.NETCore.App/<version>
        var packs = Path.GetFullPath(Path.Combine(runtime, "..", "..", "..", "packs", "Microsoft.NETCore.App.Ref"));
        var path = Directory.Exists(packs)
            ? Directory.GetFiles(packs, "System.Text.Json.SourceGeneration.dll", SearchOption.AllDirectories).Where(f => f.Contains($"{Path.DirectorySeparatorChar}cs{Path.DirectorySeparatorChar}", StringComparison.Ordinal)).Order(StringComparer.Ordinal).LastOrDefault()
            : null;
        Assert.True(path is not null, $"System.Text.Json's source generator was not found under {packs}");
        return [.. new Microsoft.CodeAnalysis.Diagnostics.AnalyzerFileReference(path, new AssemblyLoader()).GetGenerators(LanguageNames.CSharp)];
    });

    public static TheoryData<string> Scenarios()
    {
        var names = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(s_directory, "*.cs", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            names.Add(Path.GetRelativePath(s_directory, file)[..^3].Replace('\\', '/'));
        }

        return names;
    }

    [Fact]
    public void The_scenario_set_covers_at_least_forty_shapes() => Assert.True(Scenarios().Count >= 40, $"{Scenarios().Count} scenarios");

    [Theory]
    [MemberData(nameof(Scenarios))]
    public async Task Scenario(string name)
    {
        var source = await File.ReadAllTextAsync(Path.Combine(s_directory, name + ".cs"));
        // Doc comments are checked, as in a project that writes its documentation file: a bad cref in generated code shows.
        var compilation = GeneratorHarness.Compile(GeneratorHarness.ParseOptions.WithDocumentationMode(Microsoft.CodeAnalysis.DocumentationMode.Diagnose), source);
        // With System.Text.Json's own source generator beside Durably's, as in an application: a serializer context in a
        // scenario is generated, and Durably reads its options.
        GeneratorDriver driver = Microsoft.CodeAnalysis.CSharp.CSharpGeneratorDriver.Create(
            [new WorkflowGenerator().AsSourceGenerator(), .. s_jsonGenerators.Value],
            parseOptions: GeneratorHarness.ParseOptions.WithDocumentationMode(Microsoft.CodeAnalysis.DocumentationMode.Diagnose));
        driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        var analyzerDiagnostics = await output.WithAnalyzers(GeneratorHarness.Analyzers()).GetAnalyzerDiagnosticsAsync();
        var diagnostics = generatorDiagnostics.Concat(analyzerDiagnostics).Concat(output.GetDiagnostics())
            .Where(d => d.Severity >= DiagnosticSeverity.Warning && !d.IsSuppressed)
            .Distinct()
            .OrderBy(d => d.Location.SourceTree?.FilePath, StringComparer.Ordinal).ThenBy(d => d.Location.SourceSpan.Start).ThenBy(d => d.Id, StringComparer.Ordinal)
            .ToList();

        var generatedTrees = output.SyntaxTrees.Except(compilation.SyntaxTrees).ToHashSet();
        var inGenerated = diagnostics.Where(d => d.Location.SourceTree is { } tree && generatedTrees.Contains(tree)).ToList();
        Assert.True(inGenerated.Count == 0, "Generated code has warnings or errors:\n" + string.Join("\n", inGenerated.Select(Line))
            + "\n\n" + string.Join("\n\n", generatedTrees.Select(t => t.ToString())));

        // Missing doc comments on the scenario's own public types are the scenario's business, not the shape's.
        var lines = diagnostics.Where(d => d.Id != "CS1591").Select(Line).ToList();
        if (diagnostics.All(d => d.Severity != DiagnosticSeverity.Error) && await RunAsync(output) is { } ran)
        {
            lines.Add("run: " + ran);
        }

        Expect(name, lines.Count == 0 ? "no diagnostics\n" : string.Join("\n", lines) + "\n");
    }

    private static string Line(Diagnostic d)
    {
        var span = d.Location.GetLineSpan();
        var where = d.Location.IsInSource ? $"{Path.GetFileName(span.Path)}({span.StartLinePosition.Line + 1},{span.StartLinePosition.Character + 1})" : "(no location)";
        return $"{d.Id} {d.Severity.ToString().ToLowerInvariant()} {where}: {d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}";
    }

    /// <summary>Loads the built assembly in its own context and awaits its <c>Scenario.RunAsync()</c>, if it has one.</summary>
    private static async Task<string?> RunAsync(Compilation output)
    {
        using var image = new MemoryStream();
        var emitted = output.Emit(image);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics));
        image.Position = 0;
        var context = new AssemblyLoadContext("scenario", isCollectible: true);
        try
        {
            var assembly = context.LoadFromStream(image);
            var entry = assembly.GetTypes().FirstOrDefault(t => t.Name == "Scenario")?.GetMethod("RunAsync", BindingFlags.Public | BindingFlags.Static, Type.EmptyTypes);
            if (entry is null)
            {
                return null;
            }

            try
            {
                return await ((Task<string>)entry.Invoke(null, null)!).WaitAsync(TimeSpan.FromSeconds(60));
            }
            catch (Exception ex)
            {
                return "threw " + ex.GetType().Name + ": " + ex.Message.ReplaceLineEndings(" ");
            }
        }
        finally
        {
            context.Unload();
        }
    }

    private static void Expect(string name, string actual)
    {
        var expectedPath = Path.Combine(s_directory, name + ".txt");
        var receivedPath = Path.Combine(s_directory, name + ".received.txt");
        var expected = File.Exists(expectedPath) ? File.ReadAllText(expectedPath).ReplaceLineEndings("\n") : null;
        if (expected == actual)
        {
            File.Delete(receivedPath);
            return;
        }

        if (Environment.GetEnvironmentVariable("DURABLY_ACCEPT_SNAPSHOTS") == "1")
        {
            File.WriteAllText(expectedPath, actual);
            File.Delete(receivedPath);
            return;
        }

        File.WriteAllText(receivedPath, actual);
        Assert.Fail($"Scenario {name}: expected (Scenarios/{name}.txt)\n{expected ?? "<no file>"}\nactual\n{actual}");
    }

    private sealed class AssemblyLoader : IAnalyzerAssemblyLoader
    {
        public void AddDependencyLocation(string fullPath)
        {
        }

        public Assembly LoadFromPath(string fullPath) => Assembly.LoadFrom(fullPath);
    }

    private static string SourceDirectory([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}
