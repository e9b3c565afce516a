using Microsoft.CodeAnalysis;

namespace Durably.Generators.Tests;

/// <summary>
/// The determinism analyzer: each rule fires where the API is used, with the call chain from the run method, and not
/// on the code that uses the named replacement; steps are the boundary; methods not reached from the run method are
/// not workflow code; .editorconfig bans more APIs.
/// </summary>
public sealed class DeterminismTests
{
    private const string Header = """
        using System;
        using System.Diagnostics;
        using System.IO;
        using System.Linq;
        using System.Net.Http;
        using System.Threading;
        using System.Threading.Tasks;
        using Durably;

        """;

    /// <summary>A workflow whose run method calls Helper, which runs <paramref name="code"/>.</summary>
    private static string Workflow(string code, string members = "") => Header + $$"""
        [DurableWorkflow]
        public partial class Shipping
        {
            private static int s_count;

            [WorkflowRun]
            public async Task<string> RunAsync(string order)
            {
                await Label(order);
                return await Helper(order);
            }

            private async Task<string> Helper(string order)
            {
                {{code}}
                await Task.Yield();
                return order;
            }

            [Step] private Task<string> Label(string order) => Task.FromResult(order);
            {{members}}
        }
        """;

    [Theory]
    [InlineData("DURABLY0029", "var now = DateTime.UtcNow;", "DateTime.UtcNow", "var now = Workflow.Now;")]
    [InlineData("DURABLY0029", "var now = DateTimeOffset.Now;", "DateTimeOffset.Now", "var now = Workflow.Now;")]
    [InlineData("DURABLY0029", "var ticks = Environment.TickCount64;", "Environment.TickCount64", "var ticks = Workflow.Now.Ticks;")]
    [InlineData("DURABLY0029", "var watch = Stopwatch.StartNew();", "Stopwatch.StartNew", "var started = Workflow.Now;")]
    [InlineData("DURABLY0029", "var now = TimeProvider.System.GetUtcNow();", "TimeProvider.GetUtcNow", "var now = Workflow.Now;")]
    [InlineData("DURABLY0030", "var id = Guid.NewGuid();", "Guid.NewGuid", "var id = Workflow.NewGuid();")]
    [InlineData("DURABLY0031", "var pick = Random.Shared.Next(3);", "Random.Shared", "var pick = Workflow.Random.Next(3);")]
    [InlineData("DURABLY0031", "var pick = new Random().Next(3);", "new Random", "var pick = Workflow.Random.Next(3);")]
    [InlineData("DURABLY0032", "await Task.Delay(1000);", "Task.Delay", "await Workflow.SleepAsync(TimeSpan.FromSeconds(1));")]
    [InlineData("DURABLY0032", "Thread.Sleep(1000);", "Thread.Sleep", "await Workflow.SleepAsync(TimeSpan.FromSeconds(1));")]
    [InlineData("DURABLY0033", "var n = await Task.Run(() => 42);", "Task.Run", "var n = 42;")]
    [InlineData("DURABLY0033", "Parallel.For(0, 3, i => { });", "Parallel.For", "for (var i = 0; i < 3; i++) { }")]
    [InlineData("DURABLY0034", "await Label(order).ConfigureAwait(false);", "ConfigureAwait(false)", "await Label(order);")]
    [InlineData("DURABLY0035", "var text = File.ReadAllText(order);", "File.ReadAllText", "var text = order;")]
    [InlineData("DURABLY0035", "using var http = new HttpClient();", "new HttpClient", "var http = order;")]
    [InlineData("DURABLY0036", "var region = Environment.GetEnvironmentVariable(\"REGION\");", "Environment.GetEnvironmentVariable", "var region = order;")]
    [InlineData("DURABLY0037", "s_count++;", "Shipping.s_count++", "var count = 1;")]
    [InlineData("DURABLY0037", "s_count = 5;", "Shipping.s_count = …", "var count = 5;")]
    public async Task Each_rule_fires_where_the_api_is_used_with_the_call_chain_and_not_on_its_replacement(string id, string code, string api, string fixedCode)
    {
        var reported = await GeneratorHarness.AnalyzeAsync(Workflow(code));

        var diagnostic = Assert.Single(reported, d => d.Id.StartsWith("DURABLY", StringComparison.Ordinal));
        Assert.Equal(id, diagnostic.Id);
        Assert.StartsWith("RunAsync → Helper → " + api + " ", diagnostic.GetMessage(), StringComparison.Ordinal);
        var member = api.Split('.', ' ')[^1] is "…" ? api.Split('.')[^1].Split(' ')[0] : api.Split('.', ' ')[^1].TrimEnd('+', '-');
        Assert.Contains(member, diagnostic.Location.SourceTree!.GetText().ToString(diagnostic.Location.SourceSpan), StringComparison.Ordinal);
        Assert.DoesNotContain(await GeneratorHarness.AnalyzeAsync(Workflow(fixedCode)), d => d.Id.StartsWith("DURABLY", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_message_names_the_replacement_and_the_chain_follows_lambdas_and_nested_helpers()
    {
        var source = Workflow("var carrier = await PickCarrier(order);", """
            private Task<string> PickCarrier(string order) => Task.FromResult(new[] { "a", "b" }.Select(c => c + Choose()).First());
            private int Choose() => Random.Shared.Next(2);
            """);

        var diagnostic = Assert.Single(await GeneratorHarness.AnalyzeAsync(source));

        Assert.Equal("DURABLY0031", diagnostic.Id);
        Assert.Equal("RunAsync → Helper → PickCarrier → Choose → Random.Shared draws random numbers that differ on every replay; use Workflow.Random", diagnostic.GetMessage());
        Assert.Equal("Random.Shared", diagnostic.Location.SourceTree!.GetText().ToString(diagnostic.Location.SourceSpan));
    }

    [Fact]
    public async Task Steps_and_methods_the_run_method_never_reaches_may_do_anything()
    {
        var source = Workflow("var label = await Print(order);", """
            [Step] private async Task<string> Print(string order) { await Task.Delay(10); return File.ReadAllText(order) + DateTime.UtcNow + Guid.NewGuid(); }
            private Task Refund(string order) => File.WriteAllTextAsync(order, DateTime.UtcNow.ToString());
            """);

        Assert.Empty(await GeneratorHarness.AnalyzeAsync(source));
    }

    [Fact]
    public async Task More_apis_can_be_banned_in_editorconfig_by_type_or_member()
    {
        var source = Workflow("var host = Environment.MachineName; var user = Environment.UserName; var path = Path.GetTempPath();");
        var editorConfig = new Dictionary<string, string> { ["durably_banned_apis"] = "System.Environment.MachineName; System.IO.Path" };

        var reported = await GeneratorHarness.AnalyzeAsync(editorConfig, source);

        Assert.Equal(["RunAsync → Helper → Environment.MachineName", "RunAsync → Helper → Path.GetTempPath"],
            reported.Select(d => (d.Id, d.GetMessage())).Where(d => d.Id == "DURABLY0038").Select(d => d.Item2.Split(" is banned")[0]).Order());
        Assert.Empty(await GeneratorHarness.AnalyzeAsync(source));
    }

    [Fact]
    public async Task A_pragma_where_the_api_is_used_suppresses_it()
    {
        var source = Workflow("#pragma warning disable DURABLY0029 // the time only goes into a log line\n        var now = DateTime.UtcNow;\n#pragma warning restore DURABLY0029");

        Assert.Empty(await GeneratorHarness.AnalyzeAsync(source));
    }
}
