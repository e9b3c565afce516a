using Durably;
using Durably.Runtime;

var greeting = await LiveRunner.RunAsync("packaged-1", new Greeter(), workflow => workflow.RunAsync("world"));
Console.WriteLine(greeting);

[DurableWorkflow]
public partial class Greeter
{
    [WorkflowRun]
    public async Task<string> RunAsync(string name) => await Greet(name);

    // Private on purpose: the generated invoker lives in the partial class, so private steps work.
    [Step]
    private Task<string> Greet(string name)
    {
        // Only set when the call went through the generated interceptor and the runtime.
        var step = StepContext.Current ?? throw new InvalidOperationException("Greet was called directly: the step call was not intercepted.");
        return Task.FromResult($"hello {name} from step {step.StepId} with key {step.IdempotencyKey}");
    }
}
