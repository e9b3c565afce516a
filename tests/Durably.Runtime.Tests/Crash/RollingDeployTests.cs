using System.Diagnostics;
using Durably.Runtime.Journal;
using Durably.Runtime.Stores;
using Durably.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime.Tests.Crash;

/// <summary>
/// A rolling deploy with real processes on one PostgreSQL database: an old build (workflow "Parcel" v1 only) and a new
/// build (v1 kept beside v2) work side by side — v1 runs finish on either, v2 runs only on the new one, nothing is
/// dead-lettered — and then an old build alone beside a v2 run it cannot run leaves it waiting, visible, and says so
/// once however many times it looks, never a claim-and-fail loop.
/// </summary>
public sealed class RollingDeployTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IDisposable
{
    private const int Runs = 6;
    private readonly string _directory = Directory.CreateTempSubdirectory("durably-rolling-deploy-").FullName;

    private string Store => "postgres:" + database.ConnectionString;

    [Fact]
    public async Task Old_and_new_builds_share_the_runs_each_can_replay_and_an_old_build_alone_leaves_new_runs_waiting_quietly()
    {
        var logs = new[] { Path.Combine(_directory, "old.log"), Path.Combine(_directory, "new.log") };
        var old = CrashHelperProcess.Start(Store, logs[0], Runs, "old-build", TimeSpan.FromSeconds(2), "parcel-old");
        var next = CrashHelperProcess.Start(Store, logs[1], Runs, "new-build", TimeSpan.FromSeconds(2), "parcel-new");
        var (oldOut, oldErr) = await FinishAsync(old, TimeSpan.FromSeconds(120));
        await FinishAsync(next, TimeSpan.FromSeconds(120));

        await using var journal = PostgresWorkflowStore.Open(database.ConnectionString);
        for (var i = 0; i < Runs; i++)
        {
            var v1 = (await journal.GetRunAsync($"parcel-old-{i}", default))!;
            var v2 = (await journal.GetRunAsync($"parcel-new-{i}", default))!;
            Assert.Equal((1, WorkflowStatus.Completed), (v1.Version, v1.Status));
            Assert.Equal((2, WorkflowStatus.Completed), (v2.Version, v2.Status));
        }

        // Only the new build ran version 2's steps; the old one never touched a v2 run, nor failed on one.
        var oldBodies = CrashHelperProcess.ReadBodyLog(logs[0]);
        Assert.DoesNotContain(oldBodies, e => e.What.StartsWith("v2", StringComparison.Ordinal) || e.WorkflowId.StartsWith("parcel-new", StringComparison.Ordinal));
        Assert.Equal(Runs, CrashHelperProcess.ReadBodyLog(logs[1]).Count(e => e.What == "v2-weigh"));
        Assert.DoesNotContain("Error", oldErr, StringComparison.Ordinal);
        Assert.Empty((await journal.ListRunsAsync(new RunListQuery(null, WorkflowStatus.DeadLettered, null, null, null, 10), default)));

        // The new build is gone; a v2 run is in flight. The old build alone works beside it for 8 s, looking every second.
        // (Its own store: the host disposes the store it is given.)
        await using (var newBuild = new TestHost(PostgresWorkflowStore.Open(database.ConnectionString), d => d.AddWorkflow<Support.ParcelV1>().AddWorkflow<Support.ParcelV2>(), s => s.AddSingleton(new VersionLog())))
        {
            await newBuild.Get<ParcelV2Client>().StartAsync("stranded", "parcel-stranded");
        }

        var alone = CrashHelperProcess.Start(Store, Path.Combine(_directory, "alone.log"), 1, "old-alone", TimeSpan.FromSeconds(2), "parcel-idle:8:1");
        var (_, aloneErr) = await FinishAsync(alone, TimeSpan.FromSeconds(120));

        var lines = aloneErr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length <= 5, $"the old build logged {lines.Length} lines in 8 checks:\n{aloneErr}");
        var warning = Assert.Single(lines, line => line.Contains("wait for a worker that can run them", StringComparison.Ordinal));
        Assert.StartsWith("Warning: 1 run(s) of workflow 'Parcel' v2 wait for a worker that can run them", warning, StringComparison.Ordinal);
        Assert.Contains("worker 'old-alone' has", warning, StringComparison.Ordinal);
        Assert.DoesNotContain(lines, line => line.StartsWith("Error", StringComparison.Ordinal));
        var stranded = (await journal.LoadAsync("parcel-stranded", default))!;
        Assert.Equal((WorkflowStatus.Running, 2, null, 0L), (stranded.Run.Status, stranded.Run.Version, stranded.Run.Owner, stranded.Run.Epoch));
        Assert.Empty(stranded.Journal);
        Assert.Equal("all runs finished", oldOut.Trim());
    }

    private static async Task<(string Out, string Err)> FinishAsync(Process process, TimeSpan timeout)
    {
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(timeout);
        Assert.True(process.ExitCode == 0, $"the helper failed ({process.ExitCode}): {await output} {await error}");
        return (await output, await error);
    }

    public void Dispose()
    {
        Directory.Delete(_directory, recursive: true);
    }
}
