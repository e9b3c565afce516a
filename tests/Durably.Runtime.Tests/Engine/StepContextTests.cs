namespace Durably.Runtime.Tests;

public class StepContextTests
{
    [Fact]
    public void Idempotency_key_joins_workflow_step_and_sequence()
    {
        Assert.Equal("order-7/Charge/3", StepContext.CreateIdempotencyKey("order-7", "Charge", 3));
    }

    [Fact]
    public void Constructor_rejects_an_empty_workflow_id()
    {
        var error = Assert.Throws<ArgumentException>(() => new StepContext("", "Charge", 0, 1, new EmptyServices(), default));
        Assert.Equal("workflowId", error.ParamName);
    }

    private sealed class EmptyServices : IServiceProvider
    {
        public object? GetService(Type serviceType) => null;
    }
}
