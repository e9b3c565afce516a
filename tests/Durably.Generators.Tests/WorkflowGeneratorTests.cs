namespace Durably.Generators.Tests;

public class WorkflowGeneratorTests
{
    [Fact]
    public void Generates_step_table_client_registration_and_interceptors()
    {
        var (result, output) = GeneratorHarness.Run(Sources.OrderFulfillment);

        Assert.Empty(result.Diagnostics);
        Assert.Empty(GeneratorHarness.Errors(output));
        MatchAll(result);
    }

    [Fact]
    public void Generates_a_workflow_without_input_or_result()
    {
        var (result, output) = GeneratorHarness.Run(Sources.NoInputWorkflow);

        Assert.Empty(result.Diagnostics);
        Assert.Empty(GeneratorHarness.Errors(output));
        MatchAll(result);
    }

    [Fact]
    public void Implements_signal_waits_and_gives_the_client_typed_send_methods()
    {
        var (result, output) = GeneratorHarness.Run(Sources.Approvals);

        Assert.Empty(result.Diagnostics);
        Assert.Empty(GeneratorHarness.Errors(output));
        var text = Part(result).GetText().ToString();
        Assert.Contains("public global::System.Threading.Tasks.Task<bool> SignalApprovalAsync(string workflowId, global::Shop.Approvals.Approval payload,", text, StringComparison.Ordinal);
        Assert.Contains("Client.SignalAsync(workflowId, \"Note\", payload, signalId, cancellationToken)", text, StringComparison.Ordinal);
        MatchAll(result);
    }

    [Fact]
    public void Writes_each_step_s_failure_policy_into_the_step_table()
    {
        var (result, output) = GeneratorHarness.Run(Sources.Payments);

        Assert.Empty(result.Diagnostics);
        Assert.Empty(GeneratorHarness.Errors(output));
        var text = Part(result).GetText().ToString();
        Assert.Contains("InitialDelay = global::System.TimeSpan.FromTicks(20000000), // \"2s\"", text, StringComparison.Ordinal);
        Assert.Contains("MaxDelay = global::System.TimeSpan.FromTicks(54000000000), // \"1.5h\"", text, StringComparison.Ordinal);
        Assert.Contains("Timeout = global::System.TimeSpan.FromTicks(300000000), // \"30s\"", text, StringComparison.Ordinal);
        Assert.Contains("CircuitBreaker = \"payments\",", text, StringComparison.Ordinal);
        Assert.Contains("invoke: static (workflow, input, result, cancellationToken) => workflow.Refund(input.amount, cancellationToken)),", text, StringComparison.Ordinal);
        Assert.Contains("invoke: static (workflow, input, result, cancellationToken) => global::Shop.Payments.Checkout.Unarchive(input.receipt).AsTask()),", text, StringComparison.Ordinal);
        Assert.Contains("OnFailure = global::Durably.FailureRule.Compensate,", text, StringComparison.Ordinal);
        Assert.Single(text.Split('\n'), line => line.Trim() == "Transactional = true,");
        MatchAll(result);
    }

    [Fact]
    public void Intercepts_every_step_call_including_calls_in_lambdas()
    {
        var (result, _) = GeneratorHarness.Run(Sources.OrderFulfillment);
        var text = Interceptors(result).GetText().ToString();

        // Reserve, Notify, Ship (inside the Select lambda), Count (through this.), Audit: five call sites.
        Assert.Equal(5, text.Split("InterceptsLocation(1, ").Length - 1);
    }

    [Fact]
    public void Finds_call_sites_in_every_partial_declaration()
    {
        const string first = """
            using System.Threading.Tasks;
            using Durably;

            [DurableWorkflow]
            public partial class Split
            {
                [WorkflowRun]
                public async Task<int> RunAsync() => await Helper();

                [Step]
                private Task<int> One() => Task.FromResult(1);
            }
            """;
        const string second = """
            using System.Threading.Tasks;

            public partial class Split
            {
                private async Task<int> Helper() => await One() + await One();
            }
            """;

        var (result, output) = GeneratorHarness.Run(first, second);

        Assert.Empty(GeneratorHarness.Errors(output));
        var text = Interceptors(result).GetText().ToString();
        Assert.Equal(2, text.Split("InterceptsLocation(1, ").Length - 1);
    }

    [Fact]
    public void Generates_nothing_for_a_class_without_the_attribute()
    {
        var (result, _) = GeneratorHarness.Run(Sources.Unrelated);

        Assert.Empty(result.GeneratedTrees);
        Assert.Empty(result.Diagnostics);
    }

    /// <summary>The workflow's own part and client (one file per workflow).</summary>
    private static Microsoft.CodeAnalysis.SyntaxTree Part(Microsoft.CodeAnalysis.GeneratorDriverRunResult result)
        => Assert.Single(result.GeneratedTrees, t => !t.FilePath.EndsWith(".Interceptors.g.cs", StringComparison.Ordinal));

    /// <summary>The workflow's interceptors, in a file of their own.</summary>
    private static Microsoft.CodeAnalysis.SyntaxTree Interceptors(Microsoft.CodeAnalysis.GeneratorDriverRunResult result)
        => Assert.Single(result.GeneratedTrees, t => t.FilePath.EndsWith(".Interceptors.g.cs", StringComparison.Ordinal));

    /// <summary>Every generated file against its snapshot: the part, and the interceptors when a step is called.</summary>
    private static void MatchAll(Microsoft.CodeAnalysis.GeneratorDriverRunResult result, [System.Runtime.CompilerServices.CallerMemberName] string method = "")
    {
        Assert.NotNull(Part(result));
        foreach (var tree in result.GeneratedTrees)
        {
            Snapshot.Match(Path.GetFileName(tree.FilePath), tree.GetText().ToString(), method: method);
        }
    }
}
