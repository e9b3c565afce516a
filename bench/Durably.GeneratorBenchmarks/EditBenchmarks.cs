using BenchmarkDotNet.Attributes;
using Durably.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Durably.GeneratorBenchmarks;

/// <summary>
/// One keystroke's worth of generator work in a project of <see cref="Workflows"/> workflows, one per file: the driver
/// has run once over the project, then runs again over the project with one file edited — what the IDE does on every
/// edit. Each benchmark starts from the same warm driver, so every invocation measures the same single edit.
/// </summary>
[MemoryDiagnoser]
public class EditBenchmarks
{
    private static readonly CSharpParseOptions s_parseOptions = CSharpParseOptions.Default
        .WithLanguageVersion(LanguageVersion.Preview)
        .WithFeatures([new("InterceptorsNamespaces", "Durably.Generated")]);

    private GeneratorDriver _warm = null!;
    private Compilation _stepBodyEdited = null!;
    private Compilation _otherFileEdited = null!;
    private Compilation _signatureEdited = null!;

    /// <summary>How many workflows the project has.</summary>
    [Params(200)]
    public int Workflows { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var trees = Enumerable.Range(1, Workflows).Select(i => Parse(WorkflowSource(i, string.Empty), i)).ToList();
        trees.Add(CSharpSyntaxTree.ParseText("namespace Cost; public static class Helpers { public static int Twice(int x) => x * 2; }", s_parseOptions, path: "Helpers.cs"));
        var compilation = CSharpCompilation.Create("Cost", trees, References(), new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        _warm = CSharpGeneratorDriver.Create([new WorkflowGenerator().AsSourceGenerator()], parseOptions: s_parseOptions).RunGenerators(compilation);

        // A comment typed inside a step body of workflow 100; a helper edited in a file without workflows; a step's
        // signature changed (a real change, which must regenerate that workflow).
        var middle = Workflows / 2;
        _stepBodyEdited = compilation.ReplaceSyntaxTree(trees[middle - 1], Parse(WorkflowSource(middle, "// typing…"), middle));
        _otherFileEdited = compilation.ReplaceSyntaxTree(trees[^1], CSharpSyntaxTree.ParseText("namespace Cost; public static class Helpers { public static int Twice(int x) => x + x; }", s_parseOptions, path: "Helpers.cs"));
        _signatureEdited = compilation.ReplaceSyntaxTree(trees[middle - 1], Parse(WorkflowSource(middle, string.Empty).Replace("Task Charge(string id, decimal amount)", "Task Charge(string id, decimal amount, int tries)", StringComparison.Ordinal)
            .Replace("await Charge(order.Id, total);", "await Charge(order.Id, total, 1);", StringComparison.Ordinal)
            .Replace("Task Refund(string id, decimal amount)", "Task Refund(string id, decimal amount, int tries)", StringComparison.Ordinal), middle));
    }

    [Benchmark(Baseline = true, Description = "comment typed in a step body")]
    public GeneratorDriver EditInsideAStepBody() => _warm.RunGenerators(_stepBodyEdited);

    [Benchmark(Description = "edit in a file without workflows")]
    public GeneratorDriver EditInAnotherFile() => _warm.RunGenerators(_otherFileEdited);

    [Benchmark(Description = "a step's signature changed")]
    public GeneratorDriver EditAStepSignature() => _warm.RunGenerators(_signatureEdited);

    private static SyntaxTree Parse(string source, int i) => CSharpSyntaxTree.ParseText(source, s_parseOptions, path: $"Workflow{i}.cs");

    private static List<MetadataReference> References()
    {
        var platform = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        return [.. platform.Select(path => MetadataReference.CreateFromFile(path)), MetadataReference.CreateFromFile(typeof(Workflow).Assembly.Location)];
    }

    /// <summary>A workflow of the usual size: a run method with a fan-out, a timer and a helper; three steps with policies and a compensation.</summary>
    private static string WorkflowSource(int i, string inStepBody) => $$"""
        using System;
        using System.Linq;
        using System.Threading;
        using System.Threading.Tasks;
        using Durably;

        namespace Cost;

        public sealed record Order{{i}}(string Id, decimal Amount, string[] Items);

        [DurableWorkflow]
        public partial class Workflow{{i}}
        {
            [WorkflowRun]
            public async Task<string> RunAsync(Order{{i}} order)
            {
                var hold = await Reserve(order);
                var labels = await Task.WhenAll(order.Items.Select(item => Ship(order.Id, item)));
                if (Workflow.Now.Hour > 18) { await Workflow.SleepAsync(TimeSpan.FromHours(1)); }
                var total = Total(order, labels.Length);
                await Charge(order.Id, total);
                return hold + ":" + string.Join(",", labels) + ":" + Workflow.NewGuid();
            }

            private decimal Total(Order{{i}} order, int parcels) => order.Amount + Fee(parcels);

            private static decimal Fee(int parcels) => parcels * 1.5m;

            [Step(MaxAttempts = 3, InitialDelay = "1s")]
            private Task<string> Reserve(Order{{i}} order)
            {
                {{inStepBody}}
                return Task.FromResult(order.Id);
            }

            [Step(Timeout = "30s")]
            private Task<string> Ship(string id, string item, CancellationToken ct = default) => Task.FromResult(id + item);

            [Step(Compensate = nameof(Refund))]
            private Task Charge(string id, decimal amount) => Task.CompletedTask;

            private Task Refund(string id, decimal amount) => Task.CompletedTask;
        }
        """;
}
