using System.Reflection;
using Microsoft.CodeAnalysis;

namespace Durably.Generators.Tests;

/// <summary>One test per diagnostic id: it fires at the right place with the right message, and not on the fix.</summary>
public class DiagnosticTests
{
    private const string Header = """
        using System.Linq;
        using System.Threading.Tasks;
        using Durably;

        """;

    [Fact]
    public void DURABLY0001_class_not_partial()
    {
        const string source = Header + """
            [DurableWorkflow]
            public class Shipping
            {
                [WorkflowRun] public Task RunAsync() => Task.CompletedTask;
            }
            """;

        var diagnostic = Single(source, "DURABLY0001", "Shipping");
        Assert.Equal("Workflow class 'Shipping' must be declared partial so that Durably can generate its step table and client; add the 'partial' modifier", diagnostic.GetMessage());
        AssertClean(source.Replace("public class", "public partial class", StringComparison.Ordinal));
    }

    [Fact]
    public void DURABLY0002_no_run_method()
    {
        const string source = Header + """
            [DurableWorkflow]
            public partial class Shipping
            {
                public Task RunAsync() => Task.CompletedTask;
            }
            """;

        var diagnostic = Single(source, "DURABLY0002", "Shipping");
        Assert.Contains("Workflow 'Shipping' has no [WorkflowRun] method", diagnostic.GetMessage(), StringComparison.Ordinal);
        AssertClean(source.Replace("    public Task RunAsync", "    [WorkflowRun] public Task RunAsync", StringComparison.Ordinal));
    }

    [Fact]
    public void DURABLY0003_several_run_methods()
    {
        const string source = Header + """
            [DurableWorkflow]
            public partial class Shipping
            {
                [WorkflowRun] public Task RunAsync() => Task.CompletedTask;
                [WorkflowRun] public Task RetryAsync() => Task.CompletedTask;
            }
            """;

        var diagnostic = Single(source, "DURABLY0003", "RetryAsync");
        Assert.Contains("('RunAsync' and 'RetryAsync')", diagnostic.GetMessage(), StringComparison.Ordinal);
        AssertClean(source.Replace("[WorkflowRun] public Task RetryAsync", "public Task RetryAsync", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("public Task RunAsync(int a, int b) => Task.CompletedTask;", "takes 2 parameters")]
    [InlineData("public int RunAsync() => 1;", "returns 'int'")]
    [InlineData("public static Task RunAsync() => Task.CompletedTask;", "is static")]
    [InlineData("public Task RunAsync<T>() => Task.CompletedTask;", "is generic")]
    [InlineData("public Task RunAsync(ref int a) => Task.CompletedTask;", "takes a ref, out or in parameter")]
    public void DURABLY0004_run_method_signature(string method, string problem)
    {
        var source = Header + "[DurableWorkflow]\npublic partial class Shipping\n{\n    [WorkflowRun] " + method + "\n}\n";

        var diagnostic = Single(source, "DURABLY0004", "RunAsync");
        Assert.Contains("'RunAsync' " + problem, diagnostic.GetMessage(), StringComparison.Ordinal);
        AssertClean(source.Replace(method, "public Task RunAsync(int a) => Task.CompletedTask;", StringComparison.Ordinal));
    }

    [Fact]
    public void DURABLY0005_step_return_type()
    {
        const string source = Header + """
            [DurableWorkflow]
            public partial class Shipping
            {
                [WorkflowRun] public Task RunAsync() => Task.CompletedTask;
                [Step] private string Label(int parcel) => "label";
            }
            """;

        var diagnostic = Single(source, "DURABLY0005", "string");
        Assert.Equal("Step 'Label' returns 'string'; a [Step] must return Task, Task<T>, ValueTask or ValueTask<T>", diagnostic.GetMessage());
        AssertClean(source.Replace("private string Label(int parcel) => \"label\";", "private Task<string> Label(int parcel) => Task.FromResult(\"label\");", StringComparison.Ordinal));
    }

    [Fact]
    public void DURABLY0006_step_used_as_method_group()
    {
        const string source = Header + """
            [DurableWorkflow]
            public partial class Shipping
            {
                [WorkflowRun]
                public async Task<string[]> RunAsync(int[] parcels) => await Task.WhenAll(parcels.Select(Label));

                [Step(Id = nameof(Label))] private Task<string> Label(int parcel) => Task.FromResult("label");
            }
            """;

        var diagnostic = Single(source, "DURABLY0006", "Label");
        Assert.Contains("Step 'Label' is used as a method group", diagnostic.GetMessage(), StringComparison.Ordinal);
        AssertClean(source.Replace("parcels.Select(Label)", "parcels.Select(p => Label(p))", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("private static Task<string> Label(int parcel) => Task.FromResult(\"x\");", "static")]
    [InlineData("private Task<T> Label<T>(T parcel) => Task.FromResult(parcel);", "generic")]
    public void DURABLY0007_step_not_a_plain_instance_method(string step, string problem)
    {
        var source = Header + "[DurableWorkflow]\npublic partial class Shipping\n{\n    [WorkflowRun] public Task RunAsync() => Task.CompletedTask;\n    [Step] " + step + "\n}\n";

        var diagnostic = Single(source, "DURABLY0007", "Label");
        Assert.Equal($"Step 'Label' is {problem}; a [Step] must be a non-generic instance method of its workflow", diagnostic.GetMessage());
        AssertClean(source.Replace(step, "private Task<string> Label(int parcel) => Task.FromResult(\"x\");", StringComparison.Ordinal));
    }

    private const string SignalHeader = Header + "using System;\n\npublic sealed record Approval(string By);\n\n[DurableWorkflow]\npublic partial class Expenses\n{\n    [WorkflowRun] public Task RunAsync() => Task.CompletedTask;\n";

    [Theory]
    [InlineData("[Signal] private Task<SignalResult<Approval>> WaitForApprovalAsync(TimeSpan timeout) => Task.FromResult(default(SignalResult<Approval>));", "is not partial")]
    [InlineData("[Signal] private static partial Task<SignalResult<Approval>> WaitForApprovalAsync(TimeSpan timeout);", "is static")]
    [InlineData("[Signal] private partial Task<Approval> WaitForApprovalAsync(TimeSpan timeout);", "returns 'System.Threading.Tasks.Task<Approval>'")]
    [InlineData("[Signal] private partial Task<SignalResult<Approval>> WaitForApprovalAsync(int days);", "does not take exactly one TimeSpan timeout parameter")]
    [InlineData("[Signal] private partial Task<SignalResult<T>> WaitForApprovalAsync<T>(TimeSpan timeout);", "is generic")]
    public void DURABLY0008_signal_method_not_a_bodiless_partial_wait(string declaration, string problem)
    {
        var source = SignalHeader + "    " + declaration + "\n}\n";

        var diagnostic = Single(source, "DURABLY0008", "WaitForApprovalAsync");
        Assert.Equal($"[Signal] method 'WaitForApprovalAsync' {problem}; declare it without a body as 'partial Task<SignalResult<T>> WaitForApprovalAsync(TimeSpan timeout)' and the generator implements it", diagnostic.GetMessage());
        AssertClean(source.Replace(declaration, "[Signal] private partial Task<SignalResult<Approval>> WaitForApprovalAsync(TimeSpan timeout);", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Func<int>", "System.Func<int>", "it is a delegate")]
    [InlineData("System.IO.MemoryStream", "System.IO.MemoryStream", "it is a stream")]
    [InlineData("Task<int>", "System.Threading.Tasks.Task<int>", "it is a task")]
    public void DURABLY0009_signal_payload_cannot_be_journaled(string payload, string display, string problem)
    {
        var declaration = "[Signal] private partial Task<SignalResult<" + payload + ">> WaitForApprovalAsync(TimeSpan timeout);";
        var source = SignalHeader + "    " + declaration + "\n}\n";

        var diagnostic = Single(source, "DURABLY0009", "Task<SignalResult<" + payload + ">>");
        Assert.Equal($"The payload type '{display}' of signal 'Approval' cannot be journaled as JSON ({problem}); use a data type such as a record with properties", diagnostic.GetMessage());
        AssertClean(source.Replace(payload, "Approval", StringComparison.Ordinal));
    }

    [Fact]
    public void DURABLY0010_one_signal_name_with_two_payload_types()
    {
        const string first = "[Signal(Name = \"approve\")] private partial Task<SignalResult<Approval>> WaitForApprovalAsync(TimeSpan timeout);";
        const string second = "[Signal(Name = \"approve\")] private partial Task<SignalResult<string>> WaitForReasonAsync(TimeSpan timeout);";
        var source = SignalHeader + "    " + first + "\n    " + second + "\n}\n";

        var diagnostic = Assert.Single(GeneratorHarness.Run(source).Result.Diagnostics, d => d.Id == "DURABLY0010");
        Assert.Equal("WaitForReasonAsync", diagnostic.Location.SourceTree!.GetText().ToString(diagnostic.Location.SourceSpan));
        Assert.Equal("Signal 'approve' is waited for with payload type 'Approval' by 'WaitForApprovalAsync' and 'string' by 'WaitForReasonAsync'; one signal name has one payload type: rename one signal or use one type", diagnostic.GetMessage());
        AssertClean(source.Replace("[Signal(Name = \"approve\")] private partial Task<SignalResult<string>>", "[Signal(Name = \"reason\")] private partial Task<SignalResult<string>>", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("\"\"", "", "is empty")]
    [InlineData("\"ap\\nprove\"", "ap\nprove", "contains control character U+000A")]
    public void DURABLY0011_signal_name_not_allowed(string literal, string shown, string problem)
    {
        var declaration = "[Signal(Name = " + literal + ")] private partial Task<SignalResult<Approval>> WaitForApprovalAsync(TimeSpan timeout);";
        var source = SignalHeader + "    " + declaration + "\n}\n";

        var diagnostic = Single(source, "DURABLY0011", "Signal(Name = " + literal + ")");
        Assert.Equal($"Signal name '{shown}' of 'WaitForApprovalAsync' {problem}; a signal name is 1 to 256 characters with no control characters", diagnostic.GetMessage());
        AssertClean(source.Replace(literal, "\"approve\"", StringComparison.Ordinal));
    }

    private const string RetryHeader = Header + "using System;\n\n[DurableWorkflow]\npublic partial class Payments\n{\n    [WorkflowRun] public Task RunAsync() => Task.CompletedTask;\n";

    [Theory]
    [InlineData("MaxAttempts = 0", "MaxAttempts = 0", "at least 1", "MaxAttempts = 3")]
    [InlineData("MaxAttempts = -2", "MaxAttempts = -2", "at least 1", "MaxAttempts = 3")]
    [InlineData("BackoffCoefficient = 0.5", "BackoffCoefficient = 0.5", "a finite number of at least 1", "BackoffCoefficient = 2")]
    [InlineData("Jitter = 1.5", "Jitter = 1.5", "between 0 and 1", "Jitter = 0.5")]
    [InlineData("InitialDelay = \"-00:00:05\"", "InitialDelay = \"-00:00:05\"", "zero or more", "InitialDelay = \"00:00:05\"")]
    [InlineData("RetryOn = [typeof(string)]", "RetryOn = typeof(string)", "exception types", "RetryOn = [typeof(TimeoutException)]")]
    [InlineData("Timeout = \"0s\"", "Timeout = \"0s\"", "between 10ms and 1d", "Timeout = \"30s\"")]
    [InlineData("Timeout = \"9ms\"", "Timeout = \"9ms\"", "between 10ms and 1d", "Timeout = \"10ms\"")]
    [InlineData("Timeout = \"1.00:00:01\"", "Timeout = \"1.00:00:01\"", "between 10ms and 1d", "Timeout = \"1d\"")]
    [InlineData("Timeout = \"-00:00:05\"", "Timeout = \"-00:00:05\"", "between 10ms and 1d", "Timeout = \"00:00:05\"")]
    [InlineData("CircuitBreaker = \" \"", "CircuitBreaker = \" \"", "a breaker's name, not empty", "CircuitBreaker = \"payments\"")]
    public void DURABLY0012_step_policy_setting_out_of_range(string setting, string shown, string expected, string fix)
    {
        var source = RetryHeader + "    [Step(" + setting + ")] private Task Charge(System.Threading.CancellationToken ct) => Task.CompletedTask;\n}\n";

        var diagnostic = Single(source, "DURABLY0012", setting);
        Assert.Equal($"Step 'Charge' has {shown}; it must be {expected}", diagnostic.GetMessage());
        AssertClean(source.Replace(setting, fix, StringComparison.Ordinal));
    }

    [Fact]
    public void DURABLY0012_max_delay_shorter_than_the_initial_delay()
    {
        var source = RetryHeader + "    [Step(InitialDelay = \"1m\", MaxDelay = \"30s\")] private Task Charge() => Task.CompletedTask;\n}\n";

        var diagnostic = Single(source, "DURABLY0012", "MaxDelay = \"30s\"");
        Assert.Equal("Step 'Charge' has MaxDelay = \"30s\"; it must be at least InitialDelay (\"1m\")", diagnostic.GetMessage());
        AssertClean(source.Replace("\"30s\"", "\"5m\"", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("2 seconds")]
    [InlineData("")]
    [InlineData("5x")]
    [InlineData("99999999999999d")]
    public void DURABLY0013_duration_cannot_be_read(string text)
    {
        var setting = "InitialDelay = \"" + text + "\"";
        var source = RetryHeader + "    [Step(" + setting + ")] private Task Charge() => Task.CompletedTask;\n}\n";

        var diagnostic = Single(source, "DURABLY0013", setting);
        Assert.Equal($"Step 'Charge' has InitialDelay = \"{text}\", which is not a duration; write a number with a unit (\"500ms\", \"30s\", \"5m\", \"2h\", \"1d\") or \"hh:mm:ss\"", diagnostic.GetMessage());
        AssertClean(source.Replace(setting, "InitialDelay = \"2s\"", StringComparison.Ordinal));
    }

    [Fact]
    public void DURABLY0013_timeout_cannot_be_read()
    {
        var setting = "Timeout = \"soon\"";
        var source = RetryHeader + "    [Step(" + setting + ")] private Task Charge(System.Threading.CancellationToken ct) => Task.CompletedTask;\n}\n";

        var diagnostic = Single(source, "DURABLY0013", setting);
        Assert.Equal("Step 'Charge' has Timeout = \"soon\", which is not a duration; write a number with a unit (\"500ms\", \"30s\", \"5m\", \"2h\", \"1d\") or \"hh:mm:ss\"", diagnostic.GetMessage());
        AssertClean(source.Replace(setting, "Timeout = \"30s\"", StringComparison.Ordinal));
    }

    [Fact]
    public void DURABLY0014_timeout_on_a_step_without_a_cancellation_token()
    {
        var source = RetryHeader + "    [Step(Timeout = \"30s\")] private Task Charge(int amount) => Task.CompletedTask;\n}\n";

        var diagnostic = Single(source, "DURABLY0014", "Timeout = \"30s\"");
        Assert.Equal(DiagnosticSeverity.Warning, diagnostic.Severity);
        Assert.Equal("Step 'Charge' has a Timeout but takes no CancellationToken, so the timeout cannot stop its body: it keeps running and its result is discarded; add a CancellationToken parameter and pass it on", diagnostic.GetMessage());
        AssertClean(source.Replace("int amount", "int amount, System.Threading.CancellationToken cancellationToken", StringComparison.Ordinal));
    }

    [Fact]
    public void DURABLY0019_compensation_taking_the_result_of_a_step_with_a_timeout()
    {
        var source = RetryHeader
            + "    [Step(Timeout = \"10s\", Compensate = nameof(Refund))] private Task<string> Charge(int amount, System.Threading.CancellationToken ct) => Task.FromResult(\"r\");\n"
            + "    private Task Refund(string receipt) => Task.CompletedTask;\n}\n";

        var diagnostic = Single(source, "DURABLY0019", "Compensate = nameof(Refund)");
        Assert.Equal(DiagnosticSeverity.Warning, diagnostic.Severity);
        Assert.Equal("Compensation 'Refund' of step 'Charge' takes the step's result, but the step has a Timeout: a timed-out attempt may have done its work yet left no result, so the run would be parked instead of compensated; make 'Refund' take the step's parameters instead", diagnostic.GetMessage());
        AssertClean(source.Replace("Refund(string receipt)", "Refund(int amount)", StringComparison.Ordinal));
        AssertClean(source.Replace("Timeout = \"10s\", ", string.Empty, StringComparison.Ordinal));
    }

    [Fact]
    public void A_pragma_around_the_reported_code_suppresses_a_warning_there_and_nowhere_else()
    {
        var source = RetryHeader
            + "#pragma warning disable DURABLY0014 // the payment API cannot be cancelled\n"
            + "    [Step(Timeout = \"30s\")] private Task Charge(int amount) => Task.CompletedTask;\n"
            + "#pragma warning restore DURABLY0014\n"
            + "    [Step(Timeout = \"30s\")] private Task Refund(int amount) => Task.CompletedTask;\n}\n";

        var reported = GeneratorHarness.ReportedDiagnostics(source).Where(d => d.Id == "DURABLY0014").ToList();

        Assert.Equal(2, reported.Count);
        Assert.Equal([(true, "Charge"), (false, "Refund")], reported.Select(d => (d.IsSuppressed, d.GetMessage().Split('\'')[1])).OrderBy(r => r.Item2));
    }

    private const string ShapeHeader = Header + "using System;\nusing System.IO;\nusing System.Threading;\n\n";

    [Theory]
    [InlineData("public static class Orders\n{\n    [DurableWorkflow] public partial class Shipping { [WorkflowRun] public Task RunAsync() => Task.CompletedTask; }\n}\n", "is nested in 'Orders'")]
    [InlineData("[DurableWorkflow] public partial class Shipping<T> { [WorkflowRun] public Task RunAsync() => Task.CompletedTask; }\n", "is generic")]
    public void DURABLY0020_workflow_nested_or_generic(string declaration, string problem)
    {
        var diagnostic = Single(ShapeHeader + declaration, "DURABLY0020", "Shipping");
        Assert.Equal($"Workflow class 'Shipping' {problem}; declare the workflow as a top-level, non-generic, non-abstract class (not a record, not static, not 'file'-local), since the engine creates it for each run and its generated client, step table and registration are declared beside it in its namespace, in another file",
            diagnostic.GetMessage());
        AssertClean(ShapeHeader + "[DurableWorkflow] public partial class Shipping { [WorkflowRun] public Task RunAsync() => Task.CompletedTask; }\n");
    }

    [Theory]
    [InlineData("Stream content", "content", "takes parameter 'content' of type 'System.IO.Stream' (a stream)")]
    [InlineData("Func<int, bool> accept", "accept", "takes parameter 'accept' of type 'System.Func<int, bool>' (a delegate)")]
    [InlineData("ref int count", "count", "takes parameter 'count' by ref")]
    [InlineData("out int count", "count", "takes parameter 'count' by out")]
    [InlineData("in int count", "count", "takes parameter 'count' by in")]
    public void DURABLY0021_step_parameter_cannot_be_journaled(string parameter, string located, string problem)
    {
        var source = ShapeHeader + "[DurableWorkflow]\npublic partial class Upload\n{\n    [WorkflowRun] public Task RunAsync() => Task.CompletedTask;\n"
            + "    [Step] private Task Put(" + parameter + ") => Task.CompletedTask;\n}\n";

        var diagnostic = Single(source.Replace("out int count) => Task.CompletedTask", "out int count) { count = 0; return Task.CompletedTask; }", StringComparison.Ordinal), "DURABLY0021", located);
        Assert.Equal($"Step 'Put' {problem}, which cannot be journaled as JSON; pass plain data (records, primitives, collections) and open streams, callbacks or buffers inside the step", diagnostic.GetMessage());
        AssertClean(source.Replace(parameter, "string path", StringComparison.Ordinal));
    }

    [Fact]
    public void DURABLY0021_step_result_cannot_be_journaled()
    {
        var source = ShapeHeader + "[DurableWorkflow]\npublic partial class Upload\n{\n    [WorkflowRun] public Task RunAsync() => Task.CompletedTask;\n"
            + "    [Step] private Task<Stream> Open(string path) => Task.FromResult<Stream>(Stream.Null);\n}\n";

        var diagnostic = Single(source, "DURABLY0021", "Task<Stream>");
        Assert.StartsWith("Step 'Open' returns 'System.IO.Stream' (a stream), which cannot be journaled as JSON", diagnostic.GetMessage(), StringComparison.Ordinal);
        AssertClean(source.Replace("Task<Stream> Open(string path) => Task.FromResult<Stream>(Stream.Null)", "Task<string> Open(string path) => Task.FromResult(path)", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("payments/charge", "contains '/', which separates the parts of an idempotency key")]
    [InlineData("", "is empty")]
    [InlineData("   ", "is empty")]
    [InlineData("tab\there", "contains control character U+0009")]
    public void DURABLY0022_step_id_not_allowed(string id, string problem)
    {
        var source = ShapeHeader + "[DurableWorkflow]\npublic partial class Payments\n{\n    [WorkflowRun] public Task RunAsync() => Task.CompletedTask;\n"
            + "    [Step(Id = \"" + id.Replace("\t", "\\t", StringComparison.Ordinal) + "\")] private Task Charge(int amount) => Task.CompletedTask;\n}\n";

        var diagnostic = Single(source, "DURABLY0022", "Id = \"" + id.Replace("\t", "\\t", StringComparison.Ordinal) + "\"");
        Assert.Equal($"Step 'Charge' has Id \"{id}\", which {problem}; a step id is 1 to 100 characters, without '/' or control characters, and never changes once runs use it", diagnostic.GetMessage());
        AssertClean(source.Replace("Id = \"" + id.Replace("\t", "\\t", StringComparison.Ordinal) + "\"", "Id = \"payments.charge\"", StringComparison.Ordinal));
    }

    [Fact]
    public void DURABLY0022_step_id_too_long()
    {
        var id = new string('x', 101);
        var source = ShapeHeader + "[DurableWorkflow]\npublic partial class Payments\n{\n    [WorkflowRun] public Task RunAsync() => Task.CompletedTask;\n"
            + "    [Step(Id = \"" + id + "\")] private Task Charge(int amount) => Task.CompletedTask;\n}\n";

        Assert.Contains("which is 101 characters long", Single(source, "DURABLY0022", "Id = \"" + id + "\"").GetMessage(), StringComparison.Ordinal);
        AssertClean(source.Replace(id, new string('x', 100), StringComparison.Ordinal));
    }

    [Fact]
    public void DURABLY0023_two_steps_with_one_id()
    {
        var source = ShapeHeader + "[DurableWorkflow]\npublic partial class Notices\n{\n    [WorkflowRun] public Task RunAsync() => Task.CompletedTask;\n"
            + "    [Step] private Task Notify(string email) => Task.CompletedTask;\n"
            + "    [Step] private Task Notify(long phone) => Task.CompletedTask;\n}\n";

        var diagnostic = Assert.Single(GeneratorHarness.Run(source).Result.Diagnostics);
        Assert.Equal("DURABLY0023", diagnostic.Id);
        var line = diagnostic.Location.SourceTree!.GetText().Lines[diagnostic.Location.GetLineSpan().StartLinePosition.Line].ToString();
        Assert.Contains("Notify(long phone)", line, StringComparison.Ordinal);
        Assert.Equal("Steps 'Notify' and 'Notify' of workflow 'Notices' both have id \"Notify\"; give one of them its own [Step(Id = \"…\")] (overloads need one each)", diagnostic.GetMessage());
        AssertClean(source.Replace("[Step] private Task Notify(long", "[Step(Id = \"NotifyBySms\")] private Task Notify(long", StringComparison.Ordinal));
    }

    [Fact]
    public void DURABLY0024_step_called_from_a_static_member()
    {
        var source = ShapeHeader + "[DurableWorkflow]\npublic partial class Reminders\n{\n    [WorkflowRun] public Task RunAsync() => Task.CompletedTask;\n"
            + "    private static Task Remind(Reminders workflow) => workflow.Send(\"ada\");\n"
            + "    [Step] public Task Send(string user) => Task.CompletedTask;\n}\n";

        var diagnostic = Single(source, "DURABLY0024", "Send");
        Assert.Equal("Step 'Send' is called from static member 'Remind', where no run is executing and the call cannot be journaled; call it from the run method or an instance method it calls", diagnostic.GetMessage());
        AssertClean(source.Replace("private static Task Remind(Reminders workflow) => workflow.Send(\"ada\");", "private Task Remind() => Send(\"ada\");", StringComparison.Ordinal));
    }

    [Fact]
    public void DURABLY0025_step_called_inside_another_step_is_a_warning_and_still_compiles()
    {
        var source = ShapeHeader + "[DurableWorkflow]\npublic partial class Checkout\n{\n    [WorkflowRun] public Task RunAsync() => Pay(1);\n"
            + "    [Step] private async Task Pay(int amount) { await Charge(amount); }\n"
            + "    [Step] private Task Charge(int amount) => Task.CompletedTask;\n}\n";

        var diagnostic = Single(source, "DURABLY0025", "Charge");
        Assert.Equal(DiagnosticSeverity.Warning, diagnostic.Severity);
        Assert.Equal("Step 'Charge' is called inside step 'Pay', where it runs as a plain method call: no journal row, no retries, no compensation of its own; call it from the run method if it should be durable, or make it a plain method", diagnostic.GetMessage());
        Assert.Empty(GeneratorHarness.Errors(GeneratorHarness.Run(source).Output));
        AssertClean(source.Replace("[Step] private async Task Pay(int amount) { await Charge(amount); }", "[Step] private Task Pay(int amount) => Task.CompletedTask;", StringComparison.Ordinal));
    }

    [Fact]
    public void DURABLY0026_async_void_method_in_a_workflow()
    {
        var source = ShapeHeader + "[DurableWorkflow]\npublic partial class Audit\n{\n    [WorkflowRun] public Task RunAsync() => Task.CompletedTask;\n"
            + "    private async void Record(string what) => await Task.Yield();\n}\n";

        var diagnostic = Single(source, "DURABLY0026", "Record");
        Assert.Equal("Method 'Record' of workflow 'Audit' is async void: nothing can await it, so the run does not wait for it and an exception it throws ends the process; return Task instead", diagnostic.GetMessage());
        AssertClean(source.Replace("async void Record", "async Task Record", StringComparison.Ordinal));
    }

    [Fact]
    public void DURABLY0027_interceptors_not_enabled_for_Durably_and_nothing_is_generated()
    {
        var source = ShapeHeader + "[DurableWorkflow]\npublic partial class Audit\n{\n    [WorkflowRun] public async Task RunAsync() => await Record(\"x\");\n"
            + "    [Step] private Task Record(string what) => Task.CompletedTask;\n}\n";
        var withoutDurably = GeneratorHarness.ParseOptions.WithFeatures([new("InterceptorsNamespaces", "MyCompany.Generated")]);

        var (result, output) = GeneratorHarness.RunWith(withoutDurably, source);

        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal("DURABLY0027", diagnostic.Id);
        Assert.Equal("Audit", diagnostic.Location.SourceTree!.GetText().ToString(diagnostic.Location.SourceSpan));
        Assert.StartsWith("Workflow 'Audit' needs C# interceptors in namespace Durably.Generated", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Empty(result.GeneratedTrees);
        Assert.Empty(GeneratorHarness.Errors(output));
        var (enabled, _) = GeneratorHarness.RunWith(GeneratorHarness.ParseOptions.WithFeatures([new("InterceptorsNamespaces", "MyCompany.Generated;Durably.Generated")]), source);
        Assert.Empty(enabled.Diagnostics);
        Assert.Equal(2, enabled.GeneratedTrees.Length);   // the workflow's part and client, and its interceptors
    }

    private const string OutsideSource = ShapeHeader + """
        [DurableWorkflow]
        public partial class Billing
        {
            [WorkflowRun] public async Task RunAsync(int amount) => await Charge(amount);

            [Step] public Task Charge(int amount) => Task.CompletedTask;

            private sealed class Inner { public Task Again(Billing billing) => billing.Charge(2); }
        }

        public class Controller
        {
            public Task Pay(Billing billing) => billing.Charge(5);
        }
        """;

    [Fact]
    public async Task DURABLY0028_step_called_from_outside_its_workflow()
    {
        var reported = await GeneratorHarness.AnalyzeAsync(OutsideSource);

        var diagnostic = Assert.Single(reported);
        Assert.Equal("DURABLY0028", diagnostic.Id);
        Assert.Equal("Charge", diagnostic.Location.SourceTree!.GetText().ToString(diagnostic.Location.SourceSpan));
        Assert.Contains("billing.Charge(5)", diagnostic.Location.SourceTree.GetText().Lines[diagnostic.Location.GetLineSpan().StartLinePosition.Line].ToString(), StringComparison.Ordinal);
        Assert.Equal("Step 'Charge' of workflow 'Billing' is called from 'Controller', outside the workflow, where it runs as a plain method call without journal, retries or idempotency key; start the workflow through its client, or move the call into the workflow",
            diagnostic.GetMessage());
        Assert.Empty(await GeneratorHarness.AnalyzeAsync(OutsideSource.Replace("billing.Charge(5)", "Task.CompletedTask", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task An_analyzer_diagnostic_is_suppressed_by_a_pragma_around_it()
    {
        var source = OutsideSource.Replace("    public Task Pay(Billing billing) => billing.Charge(5);",
            "#pragma warning disable DURABLY0028 // a test calls the body directly on purpose\n    public Task Pay(Billing billing) => billing.Charge(5);\n#pragma warning restore DURABLY0028", StringComparison.Ordinal);

        Assert.Empty(await GeneratorHarness.AnalyzeAsync(source));
    }

    [Theory]
    [InlineData("public partial class Broken { [WorkflowRun] public async Task RunAsync( => await Charge(; [Step] private Task Charge(int a) => ")]
    [InlineData("public partial class Broken { [WorkflowRun] public async Task RunAsync() { await Charge(1) } [Step(MaxAttempts = , Compensate = nameof()] private Task<> Charge(int a) }")]
    [InlineData("public partial class { [Step] [WorkflowRun] Task")]
    [InlineData("public partial class Broken : IDurableWorkflow<Broken> { [WorkflowRun] public Task<int> RunAsync(Missing m) => Helper(m).Go(); [Step(Id = 5)] private Task<Unknown> Helper(Missing m) => Other.Charge(m); }")]
    public async Task Incomplete_code_makes_no_analyzer_or_the_generator_throw(string workflow)
    {
        var reported = await GeneratorHarness.AnalyzeAsync(ShapeHeader + "[DurableWorkflow]\n" + workflow + "\npublic class Other { public Task Pay(Broken b) => b.Charge(1); }\n");

        Assert.DoesNotContain(reported, d => d.Id is "AD0001" or "CS8785");
    }

    private const string CompensationHeader = Header + "using System;\nusing System.Threading;\n\n[DurableWorkflow]\npublic partial class Payments\n{\n    [WorkflowRun] public async Task RunAsync() => await Charge(5m, \"eur\");\n"
        + "    [Step(Compensate = nameof(Refund))] private Task<string> Charge(decimal amount, string currency, CancellationToken ct = default) => Task.FromResult(\"r-1\");\n";

    [Theory]
    [InlineData("private Task Refund(string receipt) => Task.CompletedTask;", "workflow.Refund(result)", true)]
    [InlineData("private Task Refund(decimal amount, string currency) => Task.CompletedTask;", "workflow.Refund(input.amount, input.currency)", false)]
    [InlineData("private Task Refund(string receipt, decimal amount, string currency, CancellationToken ct) => Task.CompletedTask;", "workflow.Refund(result, input.amount, input.currency, cancellationToken)", true)]
    [InlineData("private ValueTask Refund(CancellationToken ct) => default;", "workflow.Refund(cancellationToken).AsTask()", false)]
    [InlineData("private static Task Refund() => Task.CompletedTask;", "global::Payments.Refund()", false)]
    [InlineData("private Task Refund(int wrong) => Task.CompletedTask;\n    private Task Refund(string receipt, CancellationToken ct) => Task.CompletedTask;", "workflow.Refund(result, cancellationToken)", true)]
    public void A_compensation_may_take_the_result_the_parameters_both_or_nothing(string method, string call, bool needsResult)
    {
        var (result, output) = GeneratorHarness.Run(CompensationHeader + "    " + method + "\n}\n");

        Assert.Empty(result.Diagnostics);
        Assert.Empty(GeneratorHarness.Errors(output));
        var text = result.GeneratedTrees[0].GetText().ToString();
        Assert.Contains("invoke: static (workflow, input, result, cancellationToken) => " + call + "),", text, StringComparison.Ordinal);
        Assert.Contains("needsResult: " + (needsResult ? "true" : "false") + ",", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("string traveller", "workflow.CancelHotel(input.traveller)")]
    [InlineData("string reservation", "workflow.CancelHotel(result)")]
    public void A_one_parameter_compensation_of_a_type_both_result_and_argument_is_read_by_its_name(string parameter, string call)
    {
        var source = Header + "using System;\n\n[DurableWorkflow]\npublic partial class Trip\n{\n    [WorkflowRun] public async Task RunAsync() => await ReserveHotel(\"ada\");\n"
            + "    [Step(Compensate = nameof(CancelHotel))] private Task<string> ReserveHotel(string traveller) => Task.FromResult(\"h-1\");\n"
            + "    private Task CancelHotel(" + parameter + ") => Task.CompletedTask;\n}\n";
        var (result, output) = GeneratorHarness.Run(source);

        Assert.Empty(result.Diagnostics);
        Assert.Empty(GeneratorHarness.Errors(output));
        Assert.Contains("=> " + call + "),", result.GeneratedTrees[0].GetText().ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void DURABLY0015_compensation_not_found()
    {
        var source = CompensationHeader.Replace("nameof(Refund)", "\"Refnd\"", StringComparison.Ordinal) + "    private Task Refund() => Task.CompletedTask;\n}\n";

        var diagnostic = Single(source, "DURABLY0015", "Compensate = \"Refnd\"");
        Assert.Equal("Step 'Charge' names 'Refnd' as its compensation, but 'Payments' has no method of that name; write Compensate = nameof(<a method of this workflow>)", diagnostic.GetMessage());
        AssertClean(source.Replace("\"Refnd\"", "nameof(Refund)", StringComparison.Ordinal));
    }

    [Fact]
    public void DURABLY0016_compensation_does_not_return_a_task()
    {
        var source = CompensationHeader + "    private void Refund(string receipt) { }\n}\n";

        var diagnostic = Single(source, "DURABLY0016", "Compensate = nameof(Refund)");
        Assert.Equal("Compensation 'Refund' of step 'Charge' returns 'void'; a compensation returns Task or ValueTask", diagnostic.GetMessage());
        AssertClean(source.Replace("private void Refund(string receipt) { }", "private Task Refund(string receipt) => Task.CompletedTask;", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("private Task Refund(int receipt) => Task.CompletedTask;", "int")]
    [InlineData("private Task Refund(string currency, decimal amount) => Task.CompletedTask;", "string, decimal")]
    [InlineData("private Task Refund(CancellationToken ct, string receipt) => Task.CompletedTask;", "System.Threading.CancellationToken, string")]
    [InlineData("private Task Refund(ref string receipt) => Task.CompletedTask;", "string")]
    [InlineData("private Task Refund<T>(T receipt) => Task.CompletedTask;", "T")]
    public void DURABLY0017_compensation_parameters_do_not_match_the_step(string method, string shown)
    {
        var source = CompensationHeader + "    " + method + "\n}\n";

        var diagnostic = Single(source, "DURABLY0017", "Compensate = nameof(Refund)");
        Assert.Equal($"Compensation 'Refund' of step 'Charge' takes ({shown}); it must take the step's result (string), the step's parameters (decimal, string), the result followed by the parameters, or nothing, with an optional CancellationToken last", diagnostic.GetMessage());
        AssertClean(CompensationHeader + "    private Task Refund(string receipt) => Task.CompletedTask;\n}\n");
    }

    [Fact]
    public void DURABLY0018_compensation_is_a_step()
    {
        var source = CompensationHeader + "    [Step] private Task Refund(string receipt) => Task.CompletedTask;\n}\n";

        var diagnostic = Single(source, "DURABLY0018", "Compensate = nameof(Refund)");
        Assert.Equal("Compensation 'Refund' of step 'Charge' is itself a [Step]; the engine journals and retries compensations on their own, so remove [Step] from 'Refund'", diagnostic.GetMessage());
        AssertClean(source.Replace("[Step] private Task Refund", "private Task Refund", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_diagnostic_has_a_docs_page_and_a_release_tracking_row()
    {
        var descriptors = typeof(WorkflowGenerator).Assembly
            .GetType("Durably.Generators.DiagnosticDescriptors")!
            .GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
            .Select(f => (DiagnosticDescriptor)f.GetValue(null)!)
            .ToList();
        var root = RepositoryRoot();
        var releases = File.ReadAllLines(Path.Combine(root, "src/Generators/AnalyzerReleases.Shipped.md"))
            .Concat(File.ReadAllLines(Path.Combine(root, "src/Generators/AnalyzerReleases.Unshipped.md")))
            .Where(line => line.StartsWith("DURABLY", StringComparison.Ordinal))
            .Select(line => line.Split('|').Select(part => part.Trim()).ToArray())
            .ToDictionary(parts => parts[0]);
        var pages = Directory.GetFiles(Path.Combine(root, "docs/diagnostics"), "DURABLY*.md").Select(Path.GetFileNameWithoutExtension).ToHashSet();

        Assert.Equal(descriptors.Count, descriptors.Select(d => d.Id).Distinct().Count());
        foreach (var descriptor in descriptors)
        {
            Assert.True(releases.TryGetValue(descriptor.Id, out var row), $"{descriptor.Id} has no row in AnalyzerReleases");
            Assert.Equal(descriptor.DefaultSeverity.ToString(), row[2]);
            Assert.Equal(descriptor.Title.ToString(), row[3]);
            Assert.Contains(descriptor.Id, pages);
            Assert.Equal($"https://github.com/durably/durably/blob/main/docs/diagnostics/{descriptor.Id}.md", descriptor.HelpLinkUri);
            Assert.True(Uri.TryCreate(descriptor.HelpLinkUri, UriKind.Absolute, out var link) && link.Scheme == Uri.UriSchemeHttps, descriptor.HelpLinkUri);
            Assert.Matches("^DURABLY[0-9]{4}$", descriptor.Id);
            var page = File.ReadAllText(Path.Combine(root, "docs/diagnostics", descriptor.Id + ".md"));
            Assert.StartsWith($"# {descriptor.Id}: {descriptor.Title}", page, StringComparison.Ordinal);
        }

        Assert.Equal(pages.Order(), descriptors.Select(d => d.Id).Order());
        Assert.Equal(releases.Keys.Order(), descriptors.Select(d => d.Id).Order());
    }

    private static Diagnostic Single(string source, string id, string locatedText)
    {
        var (result, _) = GeneratorHarness.Run(source);
        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal(id, diagnostic.Id);
        Assert.True(diagnostic.Location.IsInSource, "the diagnostic has no source location");
        Assert.Equal(locatedText, diagnostic.Location.SourceTree!.GetText().ToString(diagnostic.Location.SourceSpan));
        return diagnostic;
    }

    private static void AssertClean(string source)
    {
        var (result, output) = GeneratorHarness.Run(source);
        Assert.Empty(result.Diagnostics);
        Assert.Empty(GeneratorHarness.Errors(output));
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Sdk.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Sdk.sln not found");
    }
}
