using Microsoft.CodeAnalysis;

namespace Durably.Generators.Tests;

/// <summary>
/// The accepted-contract file (DESIGN §6): against <c>durably.contracts.json</c>, a change that would break runs in
/// flight fails the build with its id and a message naming the workflow, the change and the fixes; a change runs do not
/// depend on builds.
/// </summary>
public sealed class ContractFileTests
{
    private const string Baseline = """
        using System;
        using System.Threading.Tasks;
        using Durably;

        namespace Shop;

        public sealed record Order(string Id, decimal Total);

        [DurableWorkflow(Name = "Orders")]
        public partial class Orders
        {
            [WorkflowRun]
            public async Task<string> RunAsync(Order order)
            {
                var hold = await Reserve(order);
                await Charge(order.Id, order.Total);
                var approved = await WaitForApprovalAsync(TimeSpan.FromDays(1));
                await Ship(order.Id);
                return hold + approved.IsReceived;
            }

            [Step]
            private Task<string> Reserve(Order order) => Task.FromResult("hold-" + order.Id);

            [Step]
            private Task Charge(string id, decimal amount) => Task.CompletedTask;

            [Step]
            private Task Ship(string id) => Task.CompletedTask;

            [Signal(Name = "approve")]
            private partial Task<SignalResult<bool>> WaitForApprovalAsync(TimeSpan timeout);
        }
        """;

    private static readonly Lazy<string> s_accepted = new(() =>
    {
        var file = GeneratorHarness.RunWithBuildProperties(new() { ["DurablyAcceptContracts"] = "true" }, Baseline)
            .Results.Single().GeneratedSources.Single(s => s.HintName == "Durably.Contracts.g.cs").SourceText.ToString();
        return string.Join("\n", file.Split('\n').Where(l => l.StartsWith("//|", StringComparison.Ordinal)).Select(l => l[3..]));
    });

    [Fact]
    public void The_code_as_accepted_builds()
        => Assert.DoesNotContain(GeneratorHarness.ReportedWithContracts(s_accepted.Value, Baseline), d => d.Id.StartsWith("DURABLY", StringComparison.Ordinal));

    [Theory]
    [InlineData("Task.FromResult(\"hold-\" + order.Id)", "Task.FromResult(\"reserved \" + order.Id.ToUpperInvariant())")]   // a step body
    [InlineData("public sealed record Order(string Id, decimal Total);", "public sealed record Order(string Id, decimal Total, string? Note = null);")]   // an optional property
    [InlineData("[Step]\n    private Task Ship", "[Step(MaxAttempts = 3, InitialDelay = \"5s\")]\n    private Task Ship")]   // a policy
    [InlineData("await Charge(order.Id, order.Total);", "await Charge(order.Id, order.Total);\n        if (Workflow.Patched(\"insure\"))\n        {\n            await Insure(order.Id);\n        }")]   // a new step behind a patch
    [InlineData("[DurableWorkflow(Name = \"Orders\")]", "[DurableWorkflow]\npublic partial class Refunds\n{\n    [WorkflowRun] public Task<int> RunAsync(int n) => Task.FromResult(n);\n}\n\n[DurableWorkflow(Name = \"Orders\")]")]   // a new workflow
    public void A_change_runs_in_flight_do_not_depend_on_builds(string from, string to)
    {
        var changed = Edit(Baseline, from, to);
        if (to.Contains("Insure", StringComparison.Ordinal))
        {
            changed = Edit(changed, "[Step]\n    private Task Ship", "[Step]\n    private Task Insure(string id) => Task.CompletedTask;\n\n    [Step]\n    private Task Ship");
        }

        Assert.DoesNotContain(GeneratorHarness.ReportedWithContracts(s_accepted.Value, changed), d => d.Id.StartsWith("DURABLY", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("DURABLY0039", "private Task Ship(string id)", "private Task Dispatch(string id)", "await Ship(order.Id);", "await Dispatch(order.Id);",
        "Workflow 'Orders' v1 no longer has step 'Ship', which its accepted contract (durably.contracts.json) has")]
    [InlineData("DURABLY0040", "private Task Charge(string id, decimal amount)", "private Task Charge(string id, double amount)", "await Charge(order.Id, order.Total);", "await Charge(order.Id, (double)order.Total);",
        "Workflow 'Orders' v1 changed step 'Charge' from '(string, decimal) -> void' to '(string, double) -> void' since its accepted contract (durably.contracts.json)")]
    [InlineData("DURABLY0040", "public async Task<string> RunAsync(Order order)", "public async Task<object> RunAsync(Order order)", null, null,
        "Workflow 'Orders' v1 changed its run method from '(Shop.Order) -> string' to '(Shop.Order) -> object'")]
    [InlineData("DURABLY0041", "SignalResult<bool>> WaitForApprovalAsync", "SignalResult<string>> WaitForApprovalAsync", "return hold + approved.IsReceived;", "return hold + approved.Payload;",
        "Workflow 'Orders' v1 changed the payload of signal 'approve' from 'bool' to 'string'")]
    [InlineData("DURABLY0042", "await Charge(order.Id, order.Total);", "await Charge(order.Id, order.Total);\n        await Workflow.SleepAsync(TimeSpan.FromHours(1));", null, null,
        "Workflow 'Orders' v1 calls a durable timer where it did not (durable call 3) since its accepted contract (durably.contracts.json), outside any Workflow.Patched guard")]
    [InlineData("DURABLY0042", "var hold = await Reserve(order);\n        await Charge(order.Id, order.Total);", "await Charge(order.Id, order.Total);\n        var hold = await Reserve(order);", null, null,
        "Workflow 'Orders' v1 calls step 'Charge' where it called step 'Reserve' (durable call 1)")]
    [InlineData("DURABLY0042", "        await Ship(order.Id);\n", "", null, null,
        "Workflow 'Orders' v1 no longer calls step 'Ship' (durable call 4)")]
    public void A_change_that_breaks_runs_in_flight_fails_with_its_id_and_says_what_changed(string id, string from, string to, string? alsoFrom, string? alsoTo, string message)
    {
        var changed = Edit(Baseline, from, to);
        if (alsoFrom is not null)
        {
            changed = Edit(changed, alsoFrom, alsoTo!);
        }

        var diagnostics = GeneratorHarness.ReportedWithContracts(s_accepted.Value, changed).Where(d => d.Id.StartsWith("DURABLY", StringComparison.Ordinal)).ToList();

        var diagnostic = Assert.Single(diagnostics, d => d.Id == id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Contains(message, diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.Contains("dotnet build -t:DurablyAcceptContracts", diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.Equal("Source0.cs", diagnostic.Location.GetLineSpan().Path);
    }

    [Theory]
    [InlineData("", "the text ends where a value should be")]
    [InlineData("{ \"workflows\": [ { \"name\": \"Orders\" ", "'}' was expected")]
    [InlineData("[1, 2]", "the file is not a JSON object")]
    [InlineData("{ \"workflow\": [] }", "it has no \"workflows\" array")]
    [InlineData("{ \"workflows\": [ { \"name\": \"Orders\", \"version\": 1.5, \"contract\": [] } ] }", "each workflow needs a \"name\"")]
    [InlineData("<<<<<<< HEAD\n{ }", "'<' cannot start a value")]
    public void An_unreadable_contract_file_is_reported_with_what_is_wrong(string json, string problem)
    {
        var diagnostic = Assert.Single(GeneratorHarness.ReportedWithContracts(json, Baseline), d => d.Id == "DURABLY0043");
        Assert.Contains("Durably cannot read /project/durably.contracts.json: " + problem, diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    private static string Edit(string source, string from, string to)
    {
        var normalized = source.Replace("\r\n", "\n", StringComparison.Ordinal);
        Assert.Contains(from, normalized, StringComparison.Ordinal);
        return normalized.Replace(from, to, StringComparison.Ordinal);
    }
}
