using System.Text.RegularExpressions;

namespace Durably.Generators.Tests;

/// <summary>
/// The contract and fingerprint of a workflow (DESIGN §6): what runs in flight depend on. Editing a step body, a comment
/// or a local never changes the fingerprint; changing what the journal holds or the order of durable calls does.
/// </summary>
public sealed partial class ContractTests
{
    private const string Baseline = """
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using Durably;

        namespace Shop;

        public sealed record Order(string Id, decimal Total);

        [DurableWorkflow(Name = "Orders", Version = 3)]
        public partial class Orders
        {
            [WorkflowRun]
            public async Task<string> RunAsync(Order order)
            {
                var hold = await Reserve(order);
                await PayAsync(order);                       // a helper: its durable calls count where it is called
                await Workflow.SleepAsync(TimeSpan.FromHours(1));
                var approved = await WaitForApprovalAsync(TimeSpan.FromDays(1));
                var note = await Workflow.WaitForSignalAsync<string>("note", TimeSpan.FromMinutes(5));
                return $"{hold}{approved.IsReceived}{note.IsReceived}";
            }

            private async Task PayAsync(Order order)
            {
                var total = order.Total;
                await Charge(order.Id, total);
            }

            [Step(Compensate = nameof(Release))]
            private Task<string> Reserve(Order order) => Task.FromResult("hold-" + order.Id);

            private Task Release(string hold) => Task.CompletedTask;

            [Step]
            private Task Charge(string id, decimal amount, CancellationToken cancellationToken = default) => Task.CompletedTask;

            [Signal(Name = "approve")]
            private partial Task<SignalResult<bool>> WaitForApprovalAsync(TimeSpan timeout);
        }
        """;

    [Fact]
    public void The_contract_lists_types_steps_signals_compensations_and_the_durable_calls_in_order()
    {
        var generated = Generate(Baseline);

        Assert.Equal(
            [
                "workflow Orders v3",
                "run (Shop.Order) -> string",
                "step Charge (string, decimal) -> void",
                "step Reserve (Shop.Order) -> string",
                "compensate Reserve by Release",
                "signal approve bool",
                "calls step:Reserve, step:Charge, timer, signal:approve, signal:note",
            ],
            ContractLines(generated));
        Assert.Matches("^[0-9a-f]{16}$", FingerprintOf(generated));
    }

    [Theory]
    [InlineData("Task.FromResult(\"hold-\" + order.Id)", "Task.FromResult(\"reserved:\" + order.Id.ToUpperInvariant())")]   // a step body
    [InlineData("// a helper: its durable calls count where it is called", "// reworded comment")]
    [InlineData("var total = order.Total;\n        await Charge(order.Id, total);", "var sum = order.Total;\n        await Charge(order.Id, sum);")]   // a local
    [InlineData("private Task Release(string hold) => Task.CompletedTask;", "private Task Release(string hold) { Console.WriteLine(hold); return Task.CompletedTask; }")]
    [InlineData("[Step]\n    private Task Charge", "[Step(MaxAttempts = 5)]\n    private Task Charge")]   // a retry policy: runs do not depend on it
    public void Editing_what_runs_do_not_depend_on_keeps_the_fingerprint(string from, string to)
        => Assert.Equal(FingerprintOf(Generate(Baseline)), FingerprintOf(Generate(Edit(Baseline, from, to))));

    [Theory]
    [InlineData("private Task<string> Reserve(Order order)", "private Task<int> Reserve(Order order)", "Task.FromResult(\"hold-\" + order.Id)", "Task.FromResult(1)")]   // a result type
    [InlineData("private Task Charge(string id, decimal amount,", "private Task Charge(string id, double amount,", "await Charge(order.Id, total);", "await Charge(order.Id, (double)total);")]   // a parameter type
    [InlineData("[Step]\n    private Task Charge", "[Step(Id = \"Pay\")]\n    private Task Charge", null, null)]   // a step id (a rename)
    [InlineData("var hold = await Reserve(order);\n        await PayAsync(order);", "await PayAsync(order);\n        var hold = await Reserve(order);", null, null)]   // reordered calls
    [InlineData("await Workflow.SleepAsync(TimeSpan.FromHours(1));", "", null, null)]   // a timer removed
    [InlineData("SignalResult<bool>> WaitForApprovalAsync", "SignalResult<string>> WaitForApprovalAsync", null, null)]   // a signal payload type
    [InlineData("[Step(Compensate = nameof(Release))]", "[Step]", null, null)]   // a compensation removed
    [InlineData("Version = 3", "Version = 4", null, null)]
    public void Changing_what_runs_depend_on_changes_the_fingerprint(string from, string to, string? alsoFrom, string? alsoTo)
    {
        var changed = Edit(Baseline, from, to);
        if (alsoFrom is not null)
        {
            changed = Edit(changed, alsoFrom, alsoTo!);
        }

        Assert.NotEqual(FingerprintOf(Generate(Baseline)), FingerprintOf(Generate(changed)));
    }

    [Fact]
    public void Asked_by_the_accept_command_the_generator_writes_the_contracts_file_and_otherwise_nothing_more()
    {
        var accepting = GeneratorHarness.RunWithBuildProperties(new() { ["DurablyAcceptContracts"] = "true" }, Baseline, Sources.Approvals);
        var normal = GeneratorHarness.RunWithBuildProperties(new() { ["DurablyAcceptContracts"] = "false" }, Baseline, Sources.Approvals);

        Assert.DoesNotContain(normal.Results.Single().GeneratedSources, s => s.HintName == "Durably.Contracts.g.cs");
        var file = accepting.Results.Single().GeneratedSources.Single(s => s.HintName == "Durably.Contracts.g.cs").SourceText.ToString();
        var json = string.Join("\n", file.Split('\n').Where(l => l.StartsWith("//|", StringComparison.Ordinal)).Select(l => l[3..]));
        using var parsed = System.Text.Json.JsonDocument.Parse(json);
        var workflows = parsed.RootElement.GetProperty("workflows").EnumerateArray().ToList();
        Assert.Equal(["ExpenseApproval", "Orders"], workflows.Select(w => w.GetProperty("name").GetString()));
        var orders = workflows[1];
        Assert.Equal(3, orders.GetProperty("version").GetInt32());
        Assert.Equal(FingerprintOf(Generate(Baseline)), orders.GetProperty("fingerprint").GetString());
        Assert.Equal(ContractLines(Generate(Baseline)), orders.GetProperty("contract").EnumerateArray().Select(f => f.GetString()));
    }

    private static string Edit(string source, string from, string to)
    {
        var normalized = source.Replace("\r\n", "\n", StringComparison.Ordinal);
        Assert.Contains(from, normalized, StringComparison.Ordinal);
        return normalized.Replace(from, to, StringComparison.Ordinal);
    }

    private static string Generate(string source)
    {
        var (result, output) = GeneratorHarness.Run(source);
        Assert.Empty(GeneratorHarness.Errors(output));
        return result.Results.Single().GeneratedSources.Single(s => !s.HintName.Contains("Interceptors", StringComparison.Ordinal)).SourceText.ToString();
    }

    private static string FingerprintOf(string generated) => FingerprintPattern().Match(generated).Groups[1].Value;

    private static List<string> ContractLines(string generated)
        => [.. ContractLinePattern().Matches(generated).Select(m => m.Groups[1].Value.TrimEnd())];

    [GeneratedRegex("Fingerprint = \"([0-9a-f]+)\"")]
    private static partial Regex FingerprintPattern();

    [GeneratedRegex(@"^\s*//   (.+)$", RegexOptions.Multiline)]
    private static partial Regex ContractLinePattern();
}
