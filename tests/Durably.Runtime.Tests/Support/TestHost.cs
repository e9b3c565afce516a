using Durably.Runtime.Journal;
using Durably.Runtime.Stores;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime.Tests.Support;

/// <summary>
/// One "process": a service provider with an engine and a client over a given store. Dropping a host and building
/// another over the same store is what a crash and a restart look like to the journal.
/// </summary>
internal sealed class TestHost : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    public TestHost(IWorkflowStore store, Action<IDurablyBuilder> workflows, Action<IServiceCollection>? services = null, string workerName = "test-worker", Action<DurableOptions>? options = null)
    {
        Store = store;
        var collection = new ServiceCollection();
        services?.Invoke(collection);
        workflows(collection.AddDurably(o =>
        {
            o.WorkerName = workerName;
            o.StoreFactory = _ => store;
            options?.Invoke(o);
        }));
        _services = collection.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    public IWorkflowStore Store { get; }

    public DurableEngine Engine => _services.GetRequiredService<DurableEngine>();

    public IDurableClient Client => _services.GetRequiredService<IDurableClient>();

    public global::Durably.Runtime.Hosting.DurableWorker Worker => _services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<global::Durably.Runtime.Hosting.DurableWorker>().Single();

    /// <summary>
    /// Executes a run until a step body reaches <paramref name="gate"/>, then stops the execution (as a shutdown
    /// would): the run is left mid-step, with a journal, for another host to resume.
    /// </summary>
    public async Task<global::Durably.Runtime.ExecutionResult> ExecuteUntilAsync(string workflowId, Gate gate)
    {
        var timeout = TimeSpan.FromSeconds(30);
        using var stop = new CancellationTokenSource();
        var execution = Engine.ExecuteAsync(workflowId, stop.Token);
        await gate.Arrived.WaitAsync(timeout);
        await stop.CancelAsync();
        return await execution.WaitAsync(timeout);
    }

    public T Get<T>()
        where T : notnull
        => _services.GetRequiredService<T>();

    public ValueTask DisposeAsync() => _services.DisposeAsync();

    /// <summary>
    /// Copies a run and its journal into a fresh store as a run still in progress, so that executing it replays the
    /// whole journal: how the tests replay a finished run.
    /// </summary>
    public static async Task<InMemoryWorkflowStore> CloneAsRunningAsync(IWorkflowStore source, string workflowId, Func<JournalEntry, JournalEntry>? edit = null)
    {
        var snapshot = await source.LoadAsync(workflowId, default) ?? throw new WorkflowNotFoundException(workflowId);
        var copy = new InMemoryWorkflowStore();
        await copy.CreateRunAsync(snapshot.Run with { Status = WorkflowStatus.Running, OutputJson = null, Error = null, Owner = null, Epoch = 0, LeaseExpiresAt = null }, default);
        var lease = await copy.TryClaimAsync(workflowId, "cloner", TimeSpan.FromMinutes(1), default) ?? throw new InvalidOperationException("cannot claim the copy");
        foreach (var original in snapshot.Journal)
        {
            var entry = edit?.Invoke(original) ?? original;
            await copy.RecordAttemptAsync(lease, entry, JournalDurability.Durable, default);
            if (entry.IsTerminal)
            {
                await copy.CompleteEntryAsync(lease, entry, default);
            }
        }

        await copy.ReleaseAsync(lease, default);
        return copy;
    }
}
