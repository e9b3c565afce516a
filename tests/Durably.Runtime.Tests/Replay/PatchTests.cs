using Durably.Runtime.Journal;
using Durably.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime.Tests.Replay;

/// <summary>
/// Patch markers (DESIGN §6), unchanged on every store: a code change behind <c>Workflow.Patched</c> reaches new runs and
/// runs that had not passed the patch point, while runs that passed it on the old code replay and finish on the old
/// branch; a run stopped inside the patched region resumes in it; deprecating the patch lets marked runs finish and
/// fails runs that took the old branch, naming the patch.
/// </summary>
public abstract class PatchTests : StoreTestBase
{
    private readonly PatchScript _script = new();

    private TestHost Build<TWorkflow>(string worker)
        where TWorkflow : class, IDurableWorkflow<TWorkflow>
        => Track(new TestHost(OpenStore(), d => d.AddWorkflow<TWorkflow>(), s => s.AddSingleton<TimeProvider>(Clock).AddSingleton(_script), worker));

    private IReadOnlyList<string> CallsOf(string workflowId)
        => [.. _script.Calls.Where(c => c.StartsWith(workflowId + ":", StringComparison.Ordinal)).Select(c => c[(workflowId.Length + 1)..])];

    [Fact]
    public async Task A_run_that_passed_the_patch_point_on_the_old_code_finishes_on_the_old_branch_after_a_restart_on_the_new()
    {
        var old = Build<ShippingOld>("old");
        await old.Get<ShippingOldClient>().StartAsync("lamp", "ship-1");
        _script.GateStep = "Hold";
        Assert.Equal(ExecutionOutcome.Abandoned, (await old.ExecuteUntilAsync("ship-1", _script.Gate)).Outcome);

        _script.Gate.Release();
        var patched = Build<ShippingPatched>("patched");
        Assert.Equal(WorkflowStatus.Completed, (await patched.Engine.ExecuteAsync("ship-1").WaitAsync(Wait.Timeout)).Status);

        Assert.Equal("old", await patched.Client.WaitForResultAsync<string>("ship-1"));
        Assert.Equal(["Pack", "Hold", "Hold", "Ship"], CallsOf("ship-1"));
        var journal = (await patched.Store.LoadAsync("ship-1", default))!.Journal;
        Assert.DoesNotContain(journal, e => e.Kind == OperationKind.Patch);
        Assert.Equal(["Pack", "Hold", "Ship"], journal.Select(e => e.OperationId));
        Assert.Empty((await patched.Client.GetRunDetailsAsync("ship-1"))!.Patches);
    }

    [Fact]
    public async Task A_new_run_takes_the_new_branch_and_its_marker_is_listed_in_its_details()
    {
        var patched = Build<ShippingPatched>("patched");
        await patched.Get<ShippingPatchedClient>().StartAsync("lamp", "ship-2");

        Assert.Equal(WorkflowStatus.Completed, (await patched.Engine.ExecuteAsync("ship-2").WaitAsync(Wait.Timeout)).Status);

        Assert.Equal("new", await patched.Client.WaitForResultAsync<string>("ship-2"));
        Assert.Equal(["Pack", "Insure", "Hold", "Ship"], CallsOf("ship-2"));
        var details = (await patched.Client.GetRunDetailsAsync("ship-2"))!;
        Assert.Equal(
            [(0L, "Pack", WorkflowOperationKind.Step), (1L, "insure", WorkflowOperationKind.Patch), (2L, "Insure", WorkflowOperationKind.Step), (3L, "Hold", WorkflowOperationKind.Step), (4L, "Ship", WorkflowOperationKind.Step)],
            details.Operations.Select(o => (o.Sequence, o.Name, o.Kind)));
        Assert.Equal(WorkflowOperationState.Completed, details.Operations[1].State);
        Assert.Equal(["insure"], details.Patches);
    }

    [Fact]
    public async Task A_run_stopped_inside_the_patched_region_resumes_in_it_and_one_stopped_before_it_takes_the_new_branch()
    {
        var first = Build<ShippingPatched>("first");
        await first.Get<ShippingPatchedClient>().StartAsync("lamp", "ship-3");
        _script.GateStep = "Insure";
        Assert.Equal(ExecutionOutcome.Abandoned, (await first.ExecuteUntilAsync("ship-3", _script.Gate)).Outcome);

        // On the old code, stopped before the patch point (its first step in flight): nothing past it is journaled.
        var old = Build<ShippingOld>("old");
        await old.Get<ShippingOldClient>().StartAsync("piano", "ship-4");
        var packing = new PatchScript();
        _script.GateStep = null;
        var gateAtPack = Track(new TestHost(OpenStore(), d => d.AddWorkflow<ShippingOld>(), s => s.AddSingleton<TimeProvider>(Clock).AddSingleton(packing), "old-2"));
        packing.GateStep = "Pack";
        Assert.Equal(ExecutionOutcome.Abandoned, (await gateAtPack.ExecuteUntilAsync("ship-4", packing.Gate)).Outcome);

        _script.Gate.Release();
        var restarted = Build<ShippingPatched>("restarted");
        Assert.Equal(WorkflowStatus.Completed, (await restarted.Engine.ExecuteAsync("ship-3").WaitAsync(Wait.Timeout)).Status);
        Assert.Equal(WorkflowStatus.Completed, (await restarted.Engine.ExecuteAsync("ship-4").WaitAsync(Wait.Timeout)).Status);

        Assert.Equal("new", await restarted.Client.WaitForResultAsync<string>("ship-3"));
        Assert.Equal(["Pack", "Insure", "Insure", "Hold", "Ship"], CallsOf("ship-3"));
        Assert.Equal("new", await restarted.Client.WaitForResultAsync<string>("ship-4"));
        Assert.Equal(["Pack", "Insure", "Hold", "Ship"], CallsOf("ship-4"));
        Assert.Equal([OperationKind.Step, OperationKind.Patch, OperationKind.Step, OperationKind.Step, OperationKind.Step],
            (await restarted.Store.LoadAsync("ship-4", default))!.Journal.Select(e => e.Kind));
    }

    [Fact]
    public async Task Deprecating_the_patch_lets_marked_runs_finish_and_fails_runs_that_took_the_old_branch_naming_the_patch()
    {
        _script.GateStep = "Hold";
        var old = Build<ShippingOld>("old");
        await old.Get<ShippingOldClient>().StartAsync("lamp", "ship-5");
        Assert.Equal(ExecutionOutcome.Abandoned, (await old.ExecuteUntilAsync("ship-5", _script.Gate)).Outcome);
        var held = _script.Gate;
        _script.Gate = new Gate();
        var patched = Build<ShippingPatched>("patched");
        await patched.Get<ShippingPatchedClient>().StartAsync("piano", "ship-6");
        Assert.Equal(ExecutionOutcome.Abandoned, (await patched.ExecuteUntilAsync("ship-6", _script.Gate)).Outcome);
        held.Release();
        _script.Gate.Release();

        var deprecated = Build<ShippingDeprecated>("deprecated");
        var stranded = await deprecated.Engine.ExecuteAsync("ship-5").WaitAsync(Wait.Timeout);
        Assert.Equal(WorkflowStatus.Completed, (await deprecated.Engine.ExecuteAsync("ship-6").WaitAsync(Wait.Timeout)).Status);
        await deprecated.Get<ShippingDeprecatedClient>().StartAsync("desk", "ship-7");
        Assert.Equal(WorkflowStatus.Completed, (await deprecated.Engine.ExecuteAsync("ship-7").WaitAsync(Wait.Timeout)).Status);

        Assert.Equal(WorkflowStatus.DeadLettered, stranded.Status);
        Assert.Equal(typeof(NonDeterminismException).FullName, stranded.Error!.Type);
        Assert.Contains("this run passed that point on the old branch of patch 'insure' (its journal has no marker there), and that branch is gone", stranded.Error.Message, StringComparison.Ordinal);
        Assert.Equal(["Pack", "Hold"], CallsOf("ship-5"));
        Assert.Equal(["Pack", "Insure", "Hold", "Hold", "Ship"], CallsOf("ship-6"));
        Assert.Equal(["Pack", "Insure", "Hold", "Ship"], CallsOf("ship-7"));
        Assert.DoesNotContain((await deprecated.Store.LoadAsync("ship-7", default))!.Journal, e => e.Kind == OperationKind.Patch);
    }

    [Fact]
    public void Patch_ids_that_are_empty_blank_huge_or_hostile_are_refused_and_patches_need_a_run()
    {
        foreach (var id in new[] { "", "   ", new string('p', Workflow.MaxPatchIdLength + 1), "in\nsure", "\0" })
        {
            Assert.Equal("patchId", Assert.Throws<ArgumentException>(() => Workflow.Patched(id)).ParamName);
            Assert.Equal("patchId", Assert.Throws<ArgumentException>(() => Workflow.DeprecatePatch(id)).ParamName);
        }

        Assert.Throws<ArgumentNullException>(() => Workflow.Patched(null!));
        Assert.Throws<InvalidOperationException>(() => Workflow.Patched(new string('p', Workflow.MaxPatchIdLength)));
        Assert.Throws<InvalidOperationException>(() => Workflow.DeprecatePatch("insure"));
    }
}

public sealed class InMemoryPatchTests : PatchTests
{
    private protected override TestStorage CreateStorage() => TestStorage.InMemory(Clock);
}

public sealed class SqlitePatchTests : PatchTests
{
    private protected override TestStorage CreateStorage() => TestStorage.Sqlite(Clock);
}

public sealed class PostgresPatchTests(PostgresDatabase database) : PatchTests, IClassFixture<PostgresDatabase>
{
    private protected override TestStorage CreateStorage() => TestStorage.Postgres(database, Clock, "patches");
}
