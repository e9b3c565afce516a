using Microsoft.Extensions.DependencyInjection;

namespace Durably.Testing.Tests;

public sealed class ReplayerTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("durably-replays-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>Runs a trip, a long sleep and a failed trip in a host, and exports each into the folder.</summary>
    private async Task ExportRunsAsync()
    {
        await using var host = await DurableTestHost.StartAsync(w => w.AddWorkflow<Trip>().AddWorkflow<LongSleep>(), s => s.AddSingleton<TripLog>());
        await host.RunToCompletionAsync<TripClient, string>(client => client.StartAsync("ann", "trip-ann"));
        await host.RunToCompletionAsync<LongSleepClient, DateTimeOffset>(client => client.StartAsync(7, "sleep-7"));
        host.Substitute(Trip.DurableSteps.BookHotel).Throws(new InvalidOperationException("sold out"));
        await Assert.ThrowsAsync<WorkflowFailedException>(() => host.RunToCompletionAsync<TripClient, string>(client => client.StartAsync("bo", "trip-bo")));
        foreach (var id in new[] { "trip-ann", "sleep-7", "trip-bo" })
        {
            await File.WriteAllTextAsync(Path.Combine(_folder, id + ".json"), await host.Client.ExportRunAsync(id));
        }
    }

    [Fact]
    public async Task Replays_every_export_in_a_folder_against_its_workflow_and_reports_each()
    {
        await ExportRunsAsync();
        var seen = new List<string>();

        var results = await Replayer.ReplayFolderAsync(_folder, w => w.AddWorkflow<Trip>().AddWorkflow<LongSleep>(), s => s.AddSingleton<TripLog>(),
            new SynchronousProgress(r => seen.Add(r.ToString())));

        Assert.Equal(["sleep-7.json", "trip-ann.json", "trip-bo.json"], results.Select(r => Path.GetFileName(r.File)));
        Assert.All(results, r => Assert.True(r.Succeeded, r.ToString()));
        Assert.Equal(["sleep-7.json: replayed", "trip-ann.json: replayed", "trip-bo.json: replayed"], seen);
        await Replayer.ReplayAsync<Trip>(await File.ReadAllTextAsync(Path.Combine(_folder, "trip-ann.json")), s => s.AddSingleton<TripLog>());
    }

    [Fact]
    public async Task A_change_that_strands_recorded_runs_fails_naming_every_file_and_why()
    {
        await ExportRunsAsync();
        // A run an older build recorded: its first step was ReserveSeat, which this build's Trip no longer calls.
        var older = (await File.ReadAllTextAsync(Path.Combine(_folder, "trip-ann.json"))).Replace("\"BookFlight\"", "\"ReserveSeat\"", StringComparison.Ordinal);
        await File.WriteAllTextAsync(Path.Combine(_folder, "trip-older.json"), older);
        await File.WriteAllTextAsync(Path.Combine(_folder, "garbage.json"), "{ \"this is\": not an export");

        var failure = await Assert.ThrowsAsync<ReplayFailedException>(() => Replayer.ReplayFolderAsync(_folder, w => w.AddWorkflow<Trip>(), s => s.AddSingleton<TripLog>()));

        Assert.StartsWith("3 of 5 exported run(s) did not replay against this build:", failure.Message, StringComparison.Ordinal);
        Assert.Contains("garbage.json: ArgumentException: The text is not a Durably run export", failure.Message, StringComparison.Ordinal);
        Assert.Contains("sleep-7.json: UnknownWorkflowException:", failure.Message, StringComparison.Ordinal);
        var stranded = Assert.Single(failure.Results, r => r.File.EndsWith("trip-older.json", StringComparison.Ordinal));
        Assert.IsType<NonDeterminismException>(stranded.Error);
        Assert.Contains("ReserveSeat", stranded.Error!.Message, StringComparison.Ordinal);
        Assert.Contains("BookFlight", stranded.Error.Message, StringComparison.Ordinal);
        Assert.Equal(2, failure.Results.Count(r => r.Succeeded));
    }

    [Fact]
    public async Task Wrong_empty_and_missing_folders_and_exports_are_refused_with_the_path()
    {
        var empty = Assert.IsType<ArgumentException>(await Record.ExceptionAsync(() => Replayer.ReplayFolderAsync(_folder, w => w.AddWorkflow<Trip>())));
        Assert.Contains($"The folder '{_folder}' holds no *.json run export", empty.Message, StringComparison.Ordinal);

        var missing = Path.Combine(_folder, "nope");
        Assert.Contains(missing, (await Assert.ThrowsAsync<DirectoryNotFoundException>(() => Replayer.ReplayFolderAsync(missing, w => w.AddWorkflow<Trip>()))).Message, StringComparison.Ordinal);
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Replayer.ReplayFolderAsync(" ", w => w.AddWorkflow<Trip>()));
        await Assert.ThrowsAsync<ArgumentNullException>(() => Replayer.ReplayFolderAsync(_folder, null!));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Replayer.ReplayAsync<Trip>(""));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Replayer.ReplayAsync<Trip>(new string('[', 100_000)));
    }

    /// <summary>Reports on the caller's thread (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SynchronousProgress(Action<ReplayResult> report) : IProgress<ReplayResult>
    {
        public void Report(ReplayResult value) => report(value);
    }
}
