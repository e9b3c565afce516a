using Durably.Runtime.Hosting;
using Durably.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime.Tests.Replay;

/// <summary>
/// Golden journals: a run exported from a store (<see cref="IDurableClient.ExportRunAsync"/>) and checked in here is
/// replayed against today's code by <see cref="WorkflowReplayer"/>; it passes while the code is compatible, and fails
/// with the non-determinism message, naming both operations, when a change would strand such runs.
/// </summary>
public sealed class ReplayerTests
{
    private static readonly string s_golden = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Replay", "Golden", "parcel-v2.json"));

    [Fact]
    public async Task A_checked_in_journal_replays_on_compatible_code_without_running_a_step()
    {
        var log = new VersionLog();

        await WorkflowReplayer.ReplayAsync<ParcelV2>(s_golden, s => s.AddSingleton(log));

        Assert.Empty(log.Calls);
    }

    [Fact]
    public async Task A_change_that_would_strand_the_recorded_run_fails_its_replay_naming_both_operations()
    {
        var error = await Assert.ThrowsAsync<NonDeterminismException>(() => WorkflowReplayer.ReplayAsync<ParcelV2Reordered>(s_golden, s => s.AddSingleton(new VersionLog())));

        Assert.Equal(0, error.Sequence);
        Assert.Equal(
            "Non-determinism in run 'golden-parcel' of workflow 'Parcel' v2: at sequence 0 the run method called step 'Label', but the journal recorded step 'Weigh'.",
            error.Message);
    }

    [Fact]
    public async Task An_export_of_another_version_or_no_export_at_all_is_refused_naming_the_problem()
    {
        var other = await Assert.ThrowsAsync<ArgumentException>(() => WorkflowReplayer.ReplayAsync<ParcelV1>(s_golden, s => s.AddSingleton(new VersionLog())));
        Assert.StartsWith("The export is a run of workflow 'Parcel' v2; ParcelV1 is 'Parcel' v1.", other.Message, StringComparison.Ordinal);

        foreach (var text in new[] { "{}", "not json", "{\"format\":\"durably-run/0\",\"run\":null,\"journal\":[]}" })
        {
            var error = await Assert.ThrowsAsync<ArgumentException>(() => WorkflowReplayer.ReplayAsync<ParcelV2>(text));
            Assert.StartsWith("The text is not a Durably run export", error.Message, StringComparison.Ordinal);
        }

        await Assert.ThrowsAsync<ArgumentException>(() => WorkflowReplayer.ReplayAsync<ParcelV2>(" "));
    }

    [Fact]
    public async Task An_export_reads_back_as_the_run_it_came_from()
    {
        var log = new VersionLog();
        await using var host = new TestHost(new global::Durably.Runtime.Stores.InMemoryWorkflowStore(), d => d.AddWorkflow<ParcelV2>(), s => s.AddSingleton(log));
        await host.Get<ParcelV2Client>().StartAsync("ada", "golden-parcel");
        Assert.Equal(WorkflowStatus.Completed, (await host.Engine.ExecuteAsync("golden-parcel").WaitAsync(Wait.Timeout)).Status);

        var export = await host.Client.ExportRunAsync("golden-parcel");

        // The checked-in journal was written by this export (GOLDEN=1 writes it anew, for a deliberate change of format).
        if (Environment.GetEnvironmentVariable("DURABLY_WRITE_GOLDEN") == "1")
        {
            File.WriteAllText(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "Replay", "Golden", "parcel-v2.json"), export);
        }

        Assert.Contains("\"format\": \"durably-run/1\"", export, StringComparison.Ordinal);
        Assert.Contains("\"operationId\": \"Weigh\"", export, StringComparison.Ordinal);
        await WorkflowReplayer.ReplayAsync<ParcelV2>(export, s => s.AddSingleton(new VersionLog()));
        await Assert.ThrowsAsync<WorkflowNotFoundException>(() => host.Client.ExportRunAsync("no-such-run"));
    }
}
