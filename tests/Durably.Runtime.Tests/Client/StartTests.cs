using Durably.Runtime.Stores;
using Durably.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime.Tests.Client;

public class StartTests
{
    [Fact]
    public async Task Starting_twice_with_the_same_id_and_input_returns_the_same_run()
    {
        var store = new InMemoryWorkflowStore();
        await using var host = new TestHost(store, d => d.AddWorkflow<FiveSteps>().AddWorkflow<Failing>(), s => s.AddSingleton(new BodyLog()).AddSingleton(Gate.Open()));
        var client = host.Get<FiveStepsClient>();

        var first = await client.StartAsync("order-1", "same-id");
        var second = await client.StartAsync("order-1", "same-id");

        Assert.Equal(first.WorkflowId, second.WorkflowId);
        var run = await first.GetRunAsync();
        Assert.Equal(WorkflowStatus.Running, run.Status);
        Assert.Equal("FiveSteps", run.WorkflowName);
        Assert.Equal(run.CreatedAt, (await second.GetRunAsync()).CreatedAt);
    }

    [Fact]
    public async Task Starting_an_id_again_with_another_input_or_workflow_is_a_conflict()
    {
        await using var host = new TestHost(new InMemoryWorkflowStore(), d => d.AddWorkflow<FiveSteps>().AddWorkflow<Failing>(), s => s.AddSingleton(new BodyLog()).AddSingleton(Gate.Open()));
        await host.Get<FiveStepsClient>().StartAsync("order-1", "taken");

        var otherInput = await Assert.ThrowsAsync<WorkflowConflictException>(() => host.Get<FiveStepsClient>().StartAsync("order-2", "taken"));
        var otherWorkflow = await Assert.ThrowsAsync<WorkflowConflictException>(() => host.Get<FailingClient>().StartAsync("taken"));

        Assert.Equal("taken", otherInput.WorkflowId);
        Assert.Contains("another input", otherInput.Message, StringComparison.Ordinal);
        Assert.Contains("workflow 'FiveSteps'; it cannot start 'Failing'", otherWorkflow.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Starting_without_an_id_makes_a_new_one_each_time()
    {
        await using var host = new TestHost(new InMemoryWorkflowStore(), d => d.AddWorkflow<Failing>(), s => s.AddSingleton(new BodyLog()));

        var a = await host.Get<FailingClient>().StartAsync();
        var b = await host.Get<FailingClient>().StartAsync();

        Assert.NotEqual(a.WorkflowId, b.WorkflowId);
    }

    [Fact]
    public async Task Starting_a_workflow_the_engine_does_not_have_names_it_and_the_fix()
    {
        await using var host = new TestHost(new InMemoryWorkflowStore(), d => d.AddWorkflow<Failing>(), s => s.AddSingleton(new BodyLog()));

        var error = await Assert.ThrowsAsync<UnknownWorkflowException>(() => host.Client.StartAsync(Shipper.DurableDefinition, new Shipment("box", typeof(int))));

        Assert.Contains("'Shipper' version 1 (Durably.Runtime.Tests.Support.Shipper) is not registered", error.Message, StringComparison.Ordinal);
        Assert.Contains("which has 'Failing' v1", error.Message, StringComparison.Ordinal);
        Assert.Contains("AddWorkflow<Shipper>()", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_input_that_cannot_be_serialised_names_the_type_and_the_reason_and_starts_nothing()
    {
        var store = new InMemoryWorkflowStore();
        await using var host = new TestHost(store, d => d.AddWorkflow<Shipper>());

        var error = await Assert.ThrowsAsync<PayloadException>(() => host.Get<ShipperClient>().StartAsync(new Shipment("box", typeof(int)), "bad-input"));

        Assert.Contains("The input of workflow 'Shipper' cannot be serialised", error.Message, StringComparison.Ordinal);
        Assert.Contains("Durably.Runtime.Tests.Support.Shipment", error.Message, StringComparison.Ordinal);
        Assert.Contains("System.Type", error.Message, StringComparison.Ordinal);
        Assert.Null(await store.GetRunAsync("bad-input", default));
    }

    [Fact]
    public async Task An_oversized_input_is_refused_with_its_size_and_the_limit()
    {
        var store = new InMemoryWorkflowStore();
        await using var host = new TestHost(store, d => d.AddWorkflow<FiveSteps>(), s => s.AddSingleton(new BodyLog()).AddSingleton(Gate.Open()));

        var error = await Assert.ThrowsAsync<PayloadException>(() => host.Get<FiveStepsClient>().StartAsync(new string('x', DurableOptions.DefaultMaxPayloadBytes), "huge"));

        Assert.Contains($"is {DurableOptions.DefaultMaxPayloadBytes + 2} bytes as JSON, over the limit of {DurableOptions.DefaultMaxPayloadBytes} bytes", error.Message, StringComparison.Ordinal);
        Assert.Null(await store.GetRunAsync("huge", default));
    }

    [Theory]
    [InlineData("", "must not be empty")]
    [InlineData("   ", "must not be empty")]
    [InlineData("line\nbreak", "control character U+000A at position 4")]
    [InlineData("nul\0byte", "control character U+0000 at position 3")]
    public async Task Malformed_workflow_ids_are_refused_naming_the_problem(string workflowId, string problem)
    {
        await using var host = new TestHost(new InMemoryWorkflowStore(), d => d.AddWorkflow<Failing>(), s => s.AddSingleton(new BodyLog()));

        var error = await Assert.ThrowsAsync<ArgumentException>(() => host.Get<FailingClient>().StartAsync(workflowId));

        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_workflow_id_over_the_length_limit_is_refused_with_its_length()
    {
        await using var host = new TestHost(new InMemoryWorkflowStore(), d => d.AddWorkflow<Failing>(), s => s.AddSingleton(new BodyLog()));

        var error = await Assert.ThrowsAsync<ArgumentException>(() => host.Get<FailingClient>().StartAsync(new string('a', 10_000)));

        Assert.Contains("is 10000 characters long; the limit is 256", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hostile_but_printable_ids_are_stored_verbatim()
    {
        await using var host = new TestHost(new InMemoryWorkflowStore(), d => d.AddWorkflow<Failing>(), s => s.AddSingleton(new BodyLog()));
        const string hostile = "'; DROP TABLE runs; -- ☃ <script>";

        var handle = await host.Get<FailingClient>().StartAsync(hostile);
        await host.Engine.ExecuteAsync(hostile);

        Assert.Equal(hostile, (await handle.GetRunAsync()).WorkflowId);
        Assert.StartsWith("Explode|0|", await handle.WaitForResultAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Results_of_unknown_runs_are_a_clear_error()
    {
        await using var host = new TestHost(new InMemoryWorkflowStore(), d => d.AddWorkflow<Failing>(), s => s.AddSingleton(new BodyLog()));

        var error = await Assert.ThrowsAsync<WorkflowNotFoundException>(() => host.Client.WaitForResultAsync<string>("nobody"));
        await Assert.ThrowsAsync<WorkflowNotFoundException>(() => host.Engine.ExecuteAsync("nobody"));

        Assert.Equal("No workflow run has id 'nobody'.", error.Message);
        Assert.Null(await host.Client.GetRunAsync("nobody"));
    }

    [Fact]
    public async Task WaitForResultAsync_waits_for_a_run_another_task_executes()
    {
        await using var host = new TestHost(new InMemoryWorkflowStore(), d => d.AddWorkflow<FiveSteps>(), s => s.AddSingleton(new BodyLog()).AddSingleton(Gate.Open()));
        var handle = await host.Get<FiveStepsClient>().StartAsync("waited", "wait-1");

        var result = handle.WaitForResultAsync();
        Assert.False(result.IsCompleted);
        await host.Engine.ExecuteAsync("wait-1");

        Assert.Equal(5, (await result.WaitAsync(TimeSpan.FromSeconds(30))).Split('|').Length);
    }
}
