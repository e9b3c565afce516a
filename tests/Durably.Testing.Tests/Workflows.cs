namespace Durably.Testing.Tests;

public interface IGreeter
{
    string Greet(string name);
}

public sealed class LoudGreeter : IGreeter
{
    public string Greet(string name) => "HELLO " + name.ToUpperInvariant();
}

/// <summary>Greets through a service the test registers.</summary>
[DurableWorkflow]
public partial class Greeting(IGreeter greeter)
{
    [WorkflowRun]
    public async Task<string> RunAsync(string name) => await Greet(name) + "!";

    [Step]
    private Task<string> Greet(string name) => Task.FromResult(greeter.Greet(name));
}

public sealed record Approval(bool Approved);

/// <summary>Waits an hour for an approval, then records it.</summary>
[DurableWorkflow]
public partial class Expense
{
    [WorkflowRun]
    public async Task<string> RunAsync(string item)
    {
        await Submit(item);
        var answer = await WaitForApproval(TimeSpan.FromHours(1));
        return answer.IsReceived && answer.Payload!.Approved ? "approved" : "refused";
    }

    [Step]
    private Task Submit(string item) => Task.CompletedTask;

    [Signal]
    private partial Task<SignalResult<Approval>> WaitForApproval(TimeSpan timeout);
}

/// <summary>A step that always fails, with one attempt.</summary>
[DurableWorkflow]
public partial class Broken
{
    [WorkflowRun]
    public async Task<int> RunAsync(int value) => await Divide(value);

    [Step(MaxAttempts = 1)]
    private Task<int> Divide(int value) => value == 0 ? throw new DivideByZeroException("no zero, please") : Task.FromResult(100 / value);
}
