namespace Durably.Generators.Tests;

public class WorkflowGeneratorTests
{
    [Fact]
    public void Generates_step_table_client_registration_and_interceptors()
    {
        var (result, output) = GeneratorHarness.Run(Sources.OrderFulfillment);

        Assert.Empty(result.Diagnostics);
        var source = Assert.Single(result.GeneratedTrees);
        Assert.Empty(GeneratorHarness.Errors(output));
        Snapshot.Match(Path.GetFileName(source.FilePath), source.GetText().ToString());
    }

    [Fact]
    public void Generates_a_workflow_without_input_or_result()
    {
        var (result, output) = GeneratorHarness.Run(Sources.NoInputWorkflow);

        Assert.Empty(result.Diagnostics);
        var source = Assert.Single(result.GeneratedTrees);
        Assert.Empty(GeneratorHarness.Errors(output));
        Snapshot.Match(Path.GetFileName(source.FilePath), source.GetText().ToString());
    }

    [Fact]
    public void Implements_signal_waits_and_gives_the_client_typed_send_methods()
    {
        var (result, output) = GeneratorHarness.Run(Sources.Approvals);

        Assert.Empty(result.Diagnostics);
        var source = Assert.Single(result.GeneratedTrees);
        Assert.Empty(GeneratorHarness.Errors(output));
        var text = source.GetText().ToString();
        Assert.Contains("public global::System.Threading.Tasks.Task<bool> SignalApprovalAsync(string workflowId, global::Shop.Approvals.Approval payload,", text, StringComparison.Ordinal);
        Assert.Contains("Client.SignalAsync(workflowId, \"Note\", payload, signalId, cancellationToken)", text, StringComparison.Ordinal);
        Snapshot.Match(Path.GetFileName(source.FilePath), text);
    }

    [Fact]
    public void Writes_each_step_s_failure_policy_into_the_step_table()
    {
        var (result, output) = GeneratorHarness.Run(Sources.Payments);

        Assert.Empty(result.Diagnostics);
        var source = Assert.Single(result.GeneratedTrees);
        Assert.Empty(GeneratorHarness.Errors(output));
        var text = source.GetText().ToString();
        Assert.Contains("InitialDelay = global::System.TimeSpan.FromTicks(20000000), // \"2s\"", text, StringComparison.Ordinal);
        Assert.Contains("MaxDelay = global::System.TimeSpan.FromTicks(54000000000), // \"1.5h\"", text, StringComparison.Ordinal);
        Assert.Contains("Timeout = global::System.TimeSpan.FromTicks(300000000), // \"30s\"", text, StringComparison.Ordinal);
        Assert.Contains("CircuitBreaker = \"payments\",", text, StringComparison.Ordinal);
        Assert.Contains("invoke: static (workflow, input, result, cancellationToken) => workflow.Refund(input.amount, cancellationToken)),", text, StringComparison.Ordinal);
        Assert.Contains("invoke: static (workflow, input, result, cancellationToken) => global::Shop.Payments.Checkout.Unarchive(input.receipt).AsTask()),", text, StringComparison.Ordinal);
        Assert.Contains("OnFailure = global::Durably.FailureRule.Compensate,", text, StringComparison.Ordinal);
        Assert.Single(text.Split('\n'), line => line.Trim() == "Transactional = true,");
        Snapshot.Match(Path.GetFileName(source.FilePath), text);
    }

    [Fact]
    public void Intercepts_every_step_call_including_calls_in_lambdas()
    {
        var (result, _) = GeneratorHarness.Run(Sources.OrderFulfillment);
        var text = result.GeneratedTrees[0].GetText().ToString();

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
        var text = result.GeneratedTrees[0].GetText().ToString();
        Assert.Equal(2, text.Split("InterceptsLocation(1, ").Length - 1);
    }

    [Fact]
    public void Generates_nothing_for_a_class_without_the_attribute()
    {
        var (result, _) = GeneratorHarness.Run(Sources.Unrelated);

        Assert.Empty(result.GeneratedTrees);
        Assert.Empty(result.Diagnostics);
    }
}
