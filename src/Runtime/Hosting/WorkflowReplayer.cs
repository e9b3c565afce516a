using Durably.Runtime.Journal;
using Durably.Runtime.Stores;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime.Hosting;

/// <summary>
/// Replays an exported run (<see cref="IDurableClient.ExportRunAsync"/>) against the workflow class of the current build,
/// in memory, from any test framework: the run method runs again and every durable call it makes is checked against
/// the journal; no step body runs, and replay stops where the journal ends. Check exports of real runs into a test
/// project and replay them in CI: a change that would strand runs in flight fails there, with the non-determinism
/// message naming both operations.
/// </summary>
public static class WorkflowReplayer
{
    /// <summary>Replays <paramref name="exportedRun"/> against <typeparamref name="TWorkflow"/>.</summary>
    /// <typeparam name="TWorkflow">The workflow class the run's name and version belong to.</typeparam>
    /// <param name="exportedRun">An export, as <see cref="IDurableClient.ExportRunAsync"/> wrote it.</param>
    /// <param name="services">Registers what the workflow's constructor needs (its step bodies never run).</param>
    /// <param name="cancellationToken">Stops the replay.</param>
    /// <returns>A task that completes when the run replayed to the end of its journal without a mismatch.</returns>
    /// <exception cref="ArgumentException">The text is not an export, or is of another workflow or version.</exception>
    /// <exception cref="NonDeterminismException">The code calls other durable operations than the journal recorded.</exception>
    /// <exception cref="PayloadException">A journaled value no longer reads as the type the code expects.</exception>
    public static async Task ReplayAsync<TWorkflow>(string exportedRun, Action<IServiceCollection>? services = null, CancellationToken cancellationToken = default)
        where TWorkflow : class, IDurableWorkflow<TWorkflow>
    {
        var snapshot = RunExport.Read(exportedRun);
        var definition = TWorkflow.Definition;
        if (snapshot.Run.WorkflowName != definition.Name || snapshot.Run.Version != definition.Version)
        {
            throw new ArgumentException(
                $"The export is a run of workflow '{snapshot.Run.WorkflowName}' v{snapshot.Run.Version}; {typeof(TWorkflow).Name} is '{definition.Name}' v{definition.Version}. Replay it against the class of that version.",
                nameof(exportedRun));
        }

        await ReplayAsync(snapshot, w => w.AddWorkflow<TWorkflow>(), services, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Replays <paramref name="exportedRun"/> against whichever of <paramref name="workflows"/> has its name and version
    /// (the test kit's folder replay).
    /// </summary>
    /// <exception cref="ArgumentException">The text is not an export.</exception>
    /// <exception cref="UnknownWorkflowException">No workflow registered has the export's name and version.</exception>
    /// <exception cref="NonDeterminismException">The code calls other durable operations than the journal recorded.</exception>
    internal static Task ReplayAsync(string exportedRun, Action<IDurablyBuilder> workflows, Action<IServiceCollection>? services, CancellationToken cancellationToken)
        => ReplayAsync(RunExport.Read(exportedRun), workflows, services, cancellationToken);

    private static async Task ReplayAsync(RunSnapshot snapshot, Action<IDurablyBuilder> workflows, Action<IServiceCollection>? services, CancellationToken cancellationToken)
    {
        var store = new InMemoryWorkflowStore();
        await ImportAsync(store, snapshot, cancellationToken).ConfigureAwait(false);
        var collection = new ServiceCollection();
        services?.Invoke(collection);
        workflows(collection.AddDurably(o =>
        {
            o.StoreFactory = _ => store;
            o.WorkerName = "durably-replayer";
            o.UnloadThreshold = Timeout.InfiniteTimeSpan;
        }));
        await using var provider = collection.BuildServiceProvider();
        var engine = provider.GetRequiredService<DurableEngine>();
        engine.Context.ReplayOnly = true;
        await engine.ExecuteAsync(snapshot.Run.WorkflowId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes the exported run into <paramref name="store"/> as a run in progress, its journal as recorded.</summary>
    private static async Task ImportAsync(InMemoryWorkflowStore store, RunSnapshot snapshot, CancellationToken cancellationToken)
    {
        var run = snapshot.Run with { Status = WorkflowStatus.Running, OutputJson = null, Error = null, Owner = null, Epoch = 0, LeaseExpiresAt = null, WakeAt = null, CancelReason = null };
        await store.CreateRunAsync(run, cancellationToken).ConfigureAwait(false);
        var lease = await store.TryClaimAsync(run.WorkflowId, "durably-replayer-import", TimeSpan.FromMinutes(1), cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"The replayer could not take run '{run.WorkflowId}' in its own store.");
        foreach (var entry in snapshot.Journal)
        {
            await store.RecordAttemptAsync(lease, entry, JournalDurability.Durable, cancellationToken).ConfigureAwait(false);
            if (entry.IsTerminal)
            {
                await store.CompleteEntryAsync(lease, entry, cancellationToken).ConfigureAwait(false);
            }
        }

        await store.ReleaseAsync(lease, cancellationToken).ConfigureAwait(false);
    }
}
