using Durably.CodeFixes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;

namespace Durably.Generators.Tests;

/// <summary>
/// Each code fix, before → after, through a real (ad hoc) Roslyn workspace: the diagnostic comes from the generator or
/// analyzer, the fix's code action is applied with the IDE's own clean-up (simplification, formatting), and the fixed
/// code no longer has the diagnostic.
/// </summary>
public sealed class CodeFixTests
{
    private const string Usings = "using System;\nusing System.Linq;\nusing System.Threading.Tasks;\nusing Durably;\n\n";

    private static readonly CodeFixProvider[] s_fixes = [new AddPartialFix(), new UseWorkflowApiFix(), new MethodGroupToLambdaFix(), new UseWorkflowLoggerFix(), new SortIterationFix()];

    [Fact]
    public async Task Add_partial_to_the_workflow_class()
    {
        await AssertFixAsync("DURABLY0001",
            Usings + "[DurableWorkflow]\npublic class Report\n{\n    [WorkflowRun] public Task RunAsync() => Task.CompletedTask;\n}\n",
            Usings + "[DurableWorkflow]\npublic partial class Report\n{\n    [WorkflowRun] public Task RunAsync() => Task.CompletedTask;\n}\n");
    }

    [Fact]
    public async Task Add_partial_to_a_workflow_class_without_modifiers()
    {
        await AssertFixAsync("DURABLY0001",
            Usings + "[DurableWorkflow]\nclass Report\n{\n    [WorkflowRun] public Task RunAsync() => Task.CompletedTask;\n}\n",
            Usings + "[DurableWorkflow]\npartial class Report\n{\n    [WorkflowRun] public Task RunAsync() => Task.CompletedTask;\n}\n");
    }

    [Theory]
    [InlineData("var now = DateTime.UtcNow;", "var now = Workflow.Now.UtcDateTime;")]
    [InlineData("var now = DateTime.Now;", "var now = Workflow.Now.LocalDateTime;")]
    [InlineData("var now = DateTimeOffset.UtcNow;", "var now = Workflow.Now;")]
    [InlineData("var id = Guid.NewGuid();", "var id = Workflow.NewGuid();")]
    [InlineData("await Task.Delay(TimeSpan.FromHours(1));", "await Workflow.SleepAsync(TimeSpan.FromHours(1));")]
    [InlineData("await Task.Delay(1500);", "await Workflow.SleepAsync(TimeSpan.FromMilliseconds(1500));")]
    public async Task Replace_a_nondeterministic_api_with_the_workflow_s_own(string before, string after)
    {
        static string Source(string line) => Usings
            + "[DurableWorkflow]\npublic partial class Report\n{\n    [WorkflowRun]\n    public async Task RunAsync()\n    {\n        " + line + "\n        await Task.Yield();\n    }\n}\n";

        var id = before.Contains("Guid", StringComparison.Ordinal) ? "DURABLY0030" : before.Contains("Delay", StringComparison.Ordinal) ? "DURABLY0032" : "DURABLY0029";
        await AssertFixAsync(id, Source(before), Source(after));
    }

    [Fact]
    public async Task Replace_a_step_method_group_with_a_lambda()
    {
        const string Before = Usings + "[DurableWorkflow]\npublic partial class Shipping\n{\n"
            + "    [WorkflowRun] public async Task<string[]> RunAsync(int[] parcels) => await Task.WhenAll(parcels.Select(Label));\n\n"
            + "    [Step] private Task<string> Label(int parcel) => Task.FromResult(\"label\");\n}\n";

        await AssertFixAsync("DURABLY0006", Before, Before.Replace("parcels.Select(Label)", "parcels.Select(parcel => Label(parcel))", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Log_through_the_workflow_logger()
    {
        static string Source(string receiver) => "using Microsoft.Extensions.Logging;\n" + Usings + "[DurableWorkflow]\npublic partial class Report(ILogger<Report> logger)\n{\n"
            + "    [WorkflowRun]\n    public async Task RunAsync(string id)\n    {\n        " + receiver + ".LogInformation(\"Reporting {Id}\", id);\n        await Task.Yield();\n    }\n}\n";

        await AssertFixAsync("DURABLY0053", Source("logger"), Source("Workflow.Logger"));
    }

    [Theory]
    [InlineData("new HashSet<string>(tags)", "new HashSet<string>(tags).Order(StringComparer.Ordinal)")]
    [InlineData("new HashSet<int>(sizes)", "new HashSet<int>(sizes).Order()")]
    [InlineData("byTag", "byTag.OrderBy(p => p.Key, StringComparer.Ordinal)")]
    [InlineData("byTag.Keys", "byTag.Keys.Order(StringComparer.Ordinal)")]
    public async Task Iterate_a_hash_set_or_dictionary_sorted(string before, string after)
    {
        static string Source(string collection) => "using System.Collections.Generic;\n" + Usings + "[DurableWorkflow]\npublic partial class Indexer\n{\n"
            + "    [WorkflowRun]\n    public async Task RunAsync(List<string> tags, List<int> sizes, Dictionary<string, int> byTag)\n    {\n"
            + "        foreach (var item in " + collection + ")\n        {\n            await Index(item.ToString()!);\n        }\n    }\n\n"
            + "    [Step] private Task Index(string item) => Task.CompletedTask;\n}\n";

        await AssertFixAsync("DURABLY0055", Source(before), Source(after));
    }

    /// <summary>Applies the fix for the first <paramref name="id"/> diagnostic of <paramref name="before"/> and compares the text.</summary>
    private static async Task AssertFixAsync(string id, string before, string after)
    {
        using var workspace = new AdhocWorkspace();
        var project = workspace.AddProject(ProjectInfo.Create(ProjectId.CreateNewId(), VersionStamp.Default, "Fixed", "Fixed", LanguageNames.CSharp,
            compilationOptions: new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable),
            parseOptions: GeneratorHarness.ParseOptions, metadataReferences: GeneratorHarness.References));
        var document = workspace.AddDocument(project.Id, "Source0.cs", SourceText.From(before));

        var diagnostic = (await GeneratorHarness.AnalyzeAsync((await document.Project.GetCompilationAsync())!)).First(d => d.Id == id);
        var actions = new List<CodeAction>();
        var fix = s_fixes.Single(f => f.FixableDiagnosticIds.Contains(id));
        await fix.RegisterCodeFixesAsync(new CodeFixContext(document, diagnostic, (action, _) => actions.Add(action), CancellationToken.None));
        var operations = await Assert.Single(actions).GetOperationsAsync(CancellationToken.None);
        var fixedDocument = operations.OfType<ApplyChangesOperation>().Single().ChangedSolution.GetDocument(document.Id)!;

        Assert.Equal(after, (await fixedDocument.GetTextAsync()).ToString());
        Assert.DoesNotContain(await GeneratorHarness.AnalyzeAsync((await fixedDocument.Project.GetCompilationAsync())!), d => d.Id == id);
    }
}
