using Durably.Runtime;
using Durably.Runtime.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Generators.Tests;

/// <summary>
/// The engine a scenario runs its workflows on: the real runtime over the in-memory store. Scenario files reference
/// this assembly; <see cref="FinishAsync{TWorkflow}"/> runs a started run to its end and then replays it from its
/// journal, so a value that does not survive the journal shows up as a replay failure.
/// </summary>
public sealed class ScenarioHost : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private ScenarioHost(ServiceProvider services) => _services = services;

    /// <summary>A host with the workflows <paramref name="workflows"/> registers and the services <paramref name="services"/> adds.</summary>
    public static ScenarioHost Create(Action<IDurablyBuilder> workflows, Action<IServiceCollection>? services = null)
    {
        ArgumentNullException.ThrowIfNull(workflows);
        var collection = new ServiceCollection();
        services?.Invoke(collection);
        workflows(collection.AddDurably(o => o.UseInMemoryStore()));
        return new ScenarioHost(collection.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true }));
    }

    /// <summary>A registered service, such as a workflow's generated client.</summary>
    public T Get<T>()
        where T : notnull
        => _services.GetRequiredService<T>();

    /// <summary>Executes run <paramref name="workflowId"/> to its end, then replays its exported journal against <typeparamref name="TWorkflow"/>.</summary>
    public async Task FinishAsync<TWorkflow>(string workflowId, Action<IServiceCollection>? services = null)
        where TWorkflow : class, IDurableWorkflow<TWorkflow>
    {
        var timeout = TimeSpan.FromSeconds(30);
        var result = await _services.GetRequiredService<DurableEngine>().ExecuteAsync(workflowId).WaitAsync(timeout);
        if (result.Outcome != ExecutionOutcome.Finished)
        {
            throw new InvalidOperationException($"Run '{workflowId}' did not finish: {result.Outcome}, {result.Status}, {result.Error}.");
        }

        var export = await _services.GetRequiredService<IDurableClient>().ExportRunAsync(workflowId);
        await WorkflowReplayer.ReplayAsync<TWorkflow>(export, services).WaitAsync(timeout);
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _services.DisposeAsync();
}
