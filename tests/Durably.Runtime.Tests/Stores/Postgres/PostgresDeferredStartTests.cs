using Durably.Runtime.Stores;
using Durably.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime.Tests.Stores.Postgres;

/// <summary>
/// Deferred starts: a run started beside its worker begins before it is created, and is created before its first
/// operation — or stored already ended. When its id turns out to be taken, the execution begun here must leave no trace:
/// no step body runs, nothing is written, and the start answers with the run that holds the id, as any start does.
/// </summary>
public sealed class PostgresDeferredStartTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    private static readonly TimeSpan s_timeout = Wait.Timeout * 2;
    private readonly string _schema = "deferred_" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public async Task A_start_whose_id_is_taken_runs_nothing_here_writes_nothing_and_answers_with_the_run_that_holds_it()
    {
        var log = new BodyLog();
        await using var host = new TestHost(PostgresWorkflowStore.Open(database.ConnectionString, new PostgresStoreOptions { Schema = _schema }),
            d => d.AddWorkflow<FiveSteps>().AddWorkflow<NoSteps>(), s => s.AddSingleton(log).AddSingleton(Gate.Open()),
            workerName: "deferred", options: o => o.PollInterval = TimeSpan.FromHours(1));
        await host.Worker.StartAsync(default);
        try
        {
            await Wait.UntilAsync(() => host.Engine.Context.LocalRunner is not null, "the worker never made its first claim");
            var steps = host.Get<FiveStepsClient>();
            var none = host.Get<NoStepsClient>();
            var first = await (await steps.StartAsync("order-1", "taken-steps")).WaitForResultAsync().WaitAsync(s_timeout);
            Assert.Equal("a-done", await (await none.StartAsync("a", "taken-none")).WaitForResultAsync().WaitAsync(s_timeout));
            var before = (await host.Store.LoadAsync("taken-steps", default))!;
            var noneBefore = (await host.Store.GetRunAsync("taken-none", default))!;
            Assert.Equal(5, log.Runs.Count);

            // The same start again: the handle of the run that holds the id, its result, and no body run here.
            Assert.Equal(first, await (await steps.StartAsync("order-1", "taken-steps")).WaitForResultAsync().WaitAsync(s_timeout));
            Assert.Equal("a-done", await (await none.StartAsync("a", "taken-none")).WaitForResultAsync().WaitAsync(s_timeout));

            // Another input, or another workflow, under a taken id: refused, as any start is.
            var otherInput = await Assert.ThrowsAsync<WorkflowConflictException>(() => steps.StartAsync("order-2", "taken-steps"));
            Assert.Contains("another input", otherInput.Message, StringComparison.Ordinal);
            await Assert.ThrowsAsync<WorkflowConflictException>(() => none.StartAsync("b", "taken-none"));
            var otherWorkflow = await Assert.ThrowsAsync<WorkflowConflictException>(() => none.StartAsync("order-1", "taken-steps"));
            Assert.Contains("'FiveSteps'", otherWorkflow.Message, StringComparison.Ordinal);

            // Nothing of those executions reached the store, and no step body ran again.
            await Wait.UntilAsync(() => host.Engine.Context.LocalRunner is { } runner && !runner.IsRunning("taken-steps") && !runner.IsRunning("taken-none"),
                "an execution begun for a taken id never stopped");
            var after = (await host.Store.LoadAsync("taken-steps", default))!;
            Assert.Equal(5, log.Runs.Count);
            Assert.Equal(before.Journal, after.Journal);
            Assert.Equal(before.Run with { LeaseExpiresAt = null }, after.Run with { LeaseExpiresAt = null });
            Assert.Equal(noneBefore, await host.Store.GetRunAsync("taken-none", default));
        }
        finally
        {
            await host.Worker.StopAsync(default);
        }
    }
}
