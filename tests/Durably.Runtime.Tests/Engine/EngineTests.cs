using Durably.Runtime.Engine;
using Durably.Runtime.Stores;
using Durably.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime.Tests.Engine;

public class EngineTests
{
    [Fact]
    public async Task Each_step_attempt_sees_its_context_and_its_own_DI_scope()
    {
        await using var host = new TestHost(new InMemoryWorkflowStore(), d => d.AddWorkflow<ContextProbe>(), s => s.AddScoped<ScopedThing>());
        await host.Get<ContextProbeClient>().StartAsync("ctx-1");

        await host.Engine.ExecuteAsync("ctx-1");
        var probes = (await host.Client.WaitForResultAsync<string[]>("ctx-1")).Select(p => p.Split('|')).ToArray();

        Assert.Equal(["a", "ctx-1", "Probe", "0", "1", "ctx-1/Probe/0", "True", "True"], probes[0][..8]);
        Assert.Equal(["b", "ctx-1", "Probe", "1", "1", "ctx-1/Probe/1", "True", "True"], probes[1][..8]);
        Assert.NotEqual(probes[0][8], probes[1][8]);
    }

    [Fact]
    public async Task A_finished_run_is_not_executed_again()
    {
        var log = new BodyLog();
        await using var host = new TestHost(new InMemoryWorkflowStore(), d => d.AddWorkflow<Failing>(), s => s.AddSingleton(log));
        await host.Get<FailingClient>().StartAsync("once");
        await host.Engine.ExecuteAsync("once");

        var again = await host.Engine.ExecuteAsync("once");

        Assert.Equal(ExecutionOutcome.AlreadyFinished, again.Outcome);
        Assert.Single(log.Runs);
    }

    [Fact]
    public async Task A_run_claimed_by_a_live_worker_is_not_executed_by_another()
    {
        var store = new InMemoryWorkflowStore();
        await using var host = new TestHost(store, d => d.AddWorkflow<Failing>(), s => s.AddSingleton(new BodyLog()), workerName: "second");
        await host.Get<FailingClient>().StartAsync("held");
        Assert.NotNull(await store.TryClaimAsync("held", "first", TimeSpan.FromMinutes(5), default));

        var result = await host.Engine.ExecuteAsync("held");

        Assert.Equal(ExecutionOutcome.NotClaimed, result.Outcome);
    }

    [Fact]
    public void Workflow_values_outside_a_run_method_are_an_error_that_says_where_they_work()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Workflow.Now);
        Assert.Contains("Workflow.Now can only be used inside a workflow's [WorkflowRun] method", error.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => Workflow.NewGuid());
        Assert.Throws<InvalidOperationException>(() => Workflow.Random);
    }

    [Fact]
    public void Deterministic_guids_and_seeds_depend_only_on_the_workflow_id_the_runs_seed_and_the_counter()
    {
        Assert.Equal(DeterministicValues.NewGuid("run-1", "s", 0), DeterministicValues.NewGuid("run-1", "s", 0));
        Assert.NotEqual(DeterministicValues.NewGuid("run-1", "s", 0), DeterministicValues.NewGuid("run-1", "s", 1));
        Assert.NotEqual(DeterministicValues.NewGuid("run-1", "s", 0), DeterministicValues.NewGuid("run-2", "s", 0));
        Assert.NotEqual(DeterministicValues.NewGuid("run-1", "s", 0), DeterministicValues.NewGuid("run-1", "t", 0));
        Assert.Equal(5, DeterministicValues.NewGuid("run-1", "s", 0).Version);
        Assert.Equal(DeterministicValues.Seed("run-1", "s"), DeterministicValues.Seed("run-1", "s"));
        Assert.NotEqual(DeterministicValues.Seed("run-1", "s"), DeterministicValues.Seed("run-1", "t"));

        // A run created before seeds were recorded gets the values it always got: its replay stays identical.
        // (Values pinned from the formula before seeds: SHA-256 of "durably/guid/run-1/0" and "durably/random/run-1".)
        Assert.Equal(Guid.Parse("8a1e9fec-65d5-5bf3-8c47-59360c7de33f"), DeterministicValues.NewGuid("run-1", null, 0));
        Assert.Equal(511699037, DeterministicValues.Seed("run-1", null));
    }

    [Fact]
    public void Invalid_options_are_refused_naming_the_setting()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new DurableOptions { MaxPayloadBytes = 0 }.Validate());
        Assert.Contains("MaxPayloadBytes", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new DurableOptions { LeaseDuration = TimeSpan.Zero }.Validate());
        Assert.Throws<ArgumentException>(() => new DurableOptions { WorkerName = " " }.Validate());
    }
}
