using Durably.Generators.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Durably.Generators.Tests;

public class IncrementalityTests
{
    [Fact]
    public void An_unrelated_edit_leaves_every_tracked_output_cached()
    {
        var (driver, compilation) = RunOnce();
        var unrelated = compilation.SyntaxTrees.Single(t => t.FilePath == "Source1.cs");
        var edited = compilation.ReplaceSyntaxTree(unrelated, CSharpSyntaxTree.ParseText(
            Sources.Unrelated + "\npublic static class Discounts { public static decimal Half(decimal a) => a / 2; }\n",
            GeneratorHarness.ParseOptions, path: "Source1.cs"));

        var result = driver.RunGenerators(edited).GetRunResult().Results.Single();

        AssertAllReasons(result, TrackingNames.WorkflowModels, IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged);
        Assert.All(result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs),
            output => Assert.Contains(output.Reason, new[] { IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged }));
    }

    [Fact]
    public void Adding_a_step_modifies_the_model_and_the_source()
    {
        var (driver, compilation) = RunOnce();
        var workflow = compilation.SyntaxTrees.Single(t => t.FilePath == "Source0.cs");
        var withStep = Sources.OrderFulfillment.Replace(
            "    [Step]\n    private Task Notify()",
            "    [Step]\n    private Task<int> Weigh() => Task.FromResult(1);\n\n    [Step]\n    private Task Notify()",
            StringComparison.Ordinal);
        Assert.NotEqual(Sources.OrderFulfillment, withStep);
        var edited = compilation.ReplaceSyntaxTree(workflow, CSharpSyntaxTree.ParseText(withStep, GeneratorHarness.ParseOptions, path: "Source0.cs"));

        var result = driver.RunGenerators(edited).GetRunResult().Results.Single();

        AssertAllReasons(result, TrackingNames.WorkflowModels, IncrementalStepRunReason.Modified);
        Assert.Contains("Weigh", result.GeneratedSources.Single(s => s.HintName == "Shop.OrderFulfillment.Durably.g.cs").SourceText.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_comment_typed_in_a_step_body_changes_only_that_workflow_s_interceptors()
    {
        var files = TwoWorkflows();
        var (driver, compilation) = RunOnce(files);
        var edited = Edit(compilation, files, 0, "Task.FromResult(\"done\")", "Task.FromResult(\"done\") /* typing */");

        var result = driver.RunGenerators(edited).GetRunResult().Results.Single();

        // Both workflows' own parts (definition, step table, client) are unchanged: their sources are not written again.
        AssertAllReasons(result, TrackingNames.WorkflowParts, IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged);
        // The edited file's call sites moved (their locations carry the file's checksum): its model, and so only its
        // interceptors, are new; the other workflow's model is unchanged.
        var models = result.TrackedSteps[TrackingNames.WorkflowModels].SelectMany(s => s.Outputs).ToList();
        Assert.Single(models, o => o.Reason == IncrementalStepRunReason.Modified);
        Assert.Single(models, o => o.Reason is IncrementalStepRunReason.Unchanged or IncrementalStepRunReason.Cached);
        Assert.Equal(4, result.GeneratedSources.Length);
    }

    [Fact]
    public void An_edit_in_another_workflow_s_file_reads_only_that_file_s_bodies_again()
    {
        var files = TwoWorkflows();
        var (driver, compilation) = RunOnce(files);
        var before = (WorkflowParser.BodyReads(files[0].Path), WorkflowParser.BodyReads(files[1].Path));
        var edited = Edit(compilation, files, 1, "Task.FromResult(2)", "Task.FromResult(3)");

        var result = driver.RunGenerators(edited).GetRunResult().Results.Single();

        Assert.Equal((before.Item1, before.Item2 + 1), (WorkflowParser.BodyReads(files[0].Path), WorkflowParser.BodyReads(files[1].Path)));
        var models = result.TrackedSteps[TrackingNames.WorkflowModels].SelectMany(s => s.Outputs).ToList();
        Assert.All(models, o => Assert.Contains(o.Reason, new[] { IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged, IncrementalStepRunReason.Modified }));
        Assert.Single(models, o => o.Reason == IncrementalStepRunReason.Modified);
    }

    [Fact]
    public void A_new_call_of_a_step_in_an_edited_body_gets_its_interceptor()
    {
        var files = TwoWorkflows();
        var (driver, compilation) = RunOnce(files);
        var edited = Edit(compilation, files, 0, "return await Finish();", "await Finish();\n        return await Finish();");

        var result = driver.RunGenerators(edited).GetRunResult().Results.Single();
        var interceptors = result.GeneratedSources.Single(s => s.HintName == files[0].Class + ".Durably.Interceptors.g.cs").SourceText.ToString();

        Assert.Equal(2, interceptors.Split("InterceptsLocation(1,").Length - 1);
    }

    /// <summary>Two workflows, one per file, under file names no other test uses (the bodies' cache is per file).</summary>
    private static (string Path, string Class, string Source)[] TwoWorkflows()
    {
        var id = Guid.NewGuid().ToString("N")[..8];
        return
        [
            ($"A_{id}.cs", $"Shop.A{id}", $$"""
                using System.Threading.Tasks;
                using Durably;
                namespace Shop;
                [DurableWorkflow]
                public partial class A{{id}}
                {
                    [WorkflowRun] public async Task<string> RunAsync() => await Finish();
                    [Step] private Task<string> Finish() => Task.FromResult("done");
                }
                """.Replace("=> await Finish();", "\n    {\n        return await Finish();\n    }", StringComparison.Ordinal)),
            ($"B_{id}.cs", $"Shop.B{id}", $$"""
                using System.Threading.Tasks;
                using Durably;
                namespace Shop;
                [DurableWorkflow]
                public partial class B{{id}}
                {
                    [WorkflowRun] public async Task<int> RunAsync() => await Count();
                    [Step] private Task<int> Count() => Task.FromResult(2);
                }
                """),
        ];
    }

    private static (GeneratorDriver Driver, Compilation Compilation) RunOnce((string Path, string Class, string Source)[] files)
    {
        var compilation = GeneratorHarness.Compile(GeneratorHarness.ParseOptions, []).AddSyntaxTrees(files.Select(f => CSharpSyntaxTree.ParseText(f.Source, GeneratorHarness.ParseOptions, path: f.Path)));
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        Assert.Empty(GeneratorHarness.Errors(driver.GetRunResult().Results.Single().GeneratedSources.Aggregate((Compilation)compilation, (c, s) => c.AddSyntaxTrees(s.SyntaxTree))));
        return (driver, compilation);
    }

    private static Compilation Edit(Compilation compilation, (string Path, string Class, string Source)[] files, int index, string from, string to)
    {
        Assert.Contains(from, files[index].Source, StringComparison.Ordinal);
        var tree = compilation.SyntaxTrees.Single(t => t.FilePath == files[index].Path);
        return compilation.ReplaceSyntaxTree(tree, CSharpSyntaxTree.ParseText(files[index].Source.Replace(from, to, StringComparison.Ordinal), GeneratorHarness.ParseOptions, path: files[index].Path));
    }

    private static (GeneratorDriver Driver, Compilation Compilation) RunOnce()
    {
        var compilation = GeneratorHarness.Compile(Sources.OrderFulfillment, Sources.Unrelated);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        return (driver, compilation);
    }

    private static void AssertAllReasons(GeneratorRunResult result, string stage, params IncrementalStepRunReason[] allowed)
    {
        Assert.True(result.TrackedSteps.TryGetValue(stage, out var steps), $"stage {stage} was not tracked");
        var reasons = steps.SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();
        Assert.NotEmpty(reasons);
        Assert.All(reasons, reason => Assert.Contains(reason, allowed));
    }
}
