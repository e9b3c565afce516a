using Durably.Infrastructure;

namespace Durably.Runtime;

/// <summary>Runs a workflow's run method with every step executed live. Replaced by the journaling engine.</summary>
public static class LiveRunner
{
    /// <summary>Runs <paramref name="run"/> on <paramref name="workflow"/> as run <paramref name="workflowId"/>.</summary>
    /// <typeparam name="TWorkflow">The workflow class.</typeparam>
    /// <typeparam name="TOutput">The run method's result.</typeparam>
    /// <param name="workflowId">The run's id.</param>
    /// <param name="workflow">The workflow instance.</param>
    /// <param name="run">Calls the run method.</param>
    /// <returns>The run's result.</returns>
    public static Task<TOutput> RunAsync<TWorkflow, TOutput>(string workflowId, TWorkflow workflow, Func<TWorkflow, Task<TOutput>> run)
        where TWorkflow : class
        => LiveExecution.RunAsync(workflowId, workflow, run);
}

internal sealed class LiveExecution(string workflowId) : WorkflowExecution
{
    private long _sequence;

    public override string WorkflowId => workflowId;

    public static Task<TOutput> RunAsync<TWorkflow, TOutput>(string workflowId, TWorkflow workflow, Func<TWorkflow, Task<TOutput>> run)
        where TWorkflow : class
    {
        SetCurrent(new LiveExecution(workflowId));
        return run(workflow);
    }

    public override DateTimeOffset GetNow(string caller) => DateTimeOffset.UtcNow;

    public override Guid NewGuid(string caller) => Guid.NewGuid();

    public override Random GetRandom(string caller) => Random.Shared;

    public override async Task<TOutput> CallStepAsync<TWorkflow, TInput, TOutput>(TWorkflow workflow, StepDefinition<TWorkflow, TInput, TOutput> step, TInput input)
    {
        var sequence = _sequence++;
        return await Task.Run(() =>
        {
            StepContext.SetCurrent(new StepContext(workflowId, step.Id, sequence, 1, EmptyServices.Instance, CancellationToken.None));
            return step.Invoke(workflow, input, CancellationToken.None);
        });
    }

    private sealed class EmptyServices : IServiceProvider
    {
        public static readonly EmptyServices Instance = new();

        public object? GetService(Type serviceType) => null;
    }
}
