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
        Assert.Contains("Weigh", result.GeneratedSources.Single().SourceText.ToString(), StringComparison.Ordinal);
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
