using System.Globalization;
using System.Text;
using Durably.Runtime.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Testing;

/// <summary>
/// Replays exported runs (<see cref="IDurableClient.ExportRunAsync"/>) against the workflow classes of this build: the
/// run method runs again and each durable call it makes is checked against the journal; no step body runs. Check
/// exports of real runs into the test project and replay them in CI — a change that would strand runs in flight fails
/// there, naming the run, the file and both operations.
/// </summary>
/// <example>
/// <code>
/// [Fact]
/// public Task Recorded_runs_still_replay() =>
///     Replayer.ReplayFolderAsync("histories", workflows => workflows.AddWorkflow&lt;OrderFulfillment&gt;());
/// </code>
/// </example>
public static class Replayer
{
    /// <summary>Replays one exported run against <typeparamref name="TWorkflow"/>.</summary>
    /// <typeparam name="TWorkflow">The workflow class of the run's name and version.</typeparam>
    /// <param name="exportedJson">The export, as <see cref="IDurableClient.ExportRunAsync"/> wrote it.</param>
    /// <param name="services">Registers what the workflow's constructor needs (its step bodies never run).</param>
    /// <param name="cancellationToken">Stops the replay.</param>
    /// <returns>A task that completes when the run replayed to the end of its journal without a mismatch.</returns>
    /// <exception cref="ArgumentException">The text is not an export, or is of another workflow or version.</exception>
    /// <exception cref="NonDeterminismException">The code calls other durable operations than the journal recorded.</exception>
    /// <exception cref="PayloadException">A journaled value no longer reads as the type the code expects.</exception>
    public static Task ReplayAsync<TWorkflow>(string exportedJson, Action<IServiceCollection>? services = null, CancellationToken cancellationToken = default)
        where TWorkflow : class, IDurableWorkflow<TWorkflow>
        => WorkflowReplayer.ReplayAsync<TWorkflow>(exportedJson, services, cancellationToken);

    /// <summary>
    /// Replays every <c>*.json</c> export in <paramref name="folder"/> (not its subfolders), each against the workflow
    /// of <paramref name="workflows"/> with its name and version. Every file is replayed, whatever the others do; then,
    /// when any failed, one exception lists each failing file with its error.
    /// </summary>
    /// <param name="folder">The folder of exports; relative paths are from the current directory (a test's output folder).</param>
    /// <param name="workflows">Registers the workflow classes the exports are runs of.</param>
    /// <param name="services">Registers what the workflows' constructors need.</param>
    /// <param name="progress">Told of each file as it is replayed.</param>
    /// <param name="cancellationToken">Stops the replays.</param>
    /// <returns>One result per file, in file-name order, all successful.</returns>
    /// <exception cref="ArgumentException"><paramref name="folder"/> is blank, or holds no <c>*.json</c> file (a path
    /// mistake would otherwise pass unnoticed).</exception>
    /// <exception cref="ArgumentNullException"><paramref name="workflows"/> is null.</exception>
    /// <exception cref="DirectoryNotFoundException"><paramref name="folder"/> does not exist.</exception>
    /// <exception cref="ReplayFailedException">A file did not replay: the message names each one and why.</exception>
    public static async Task<IReadOnlyList<ReplayResult>> ReplayFolderAsync(
        string folder, Action<IDurablyBuilder> workflows, Action<IServiceCollection>? services = null, IProgress<ReplayResult>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        ArgumentNullException.ThrowIfNull(workflows);
        var path = Path.GetFullPath(folder);
        if (!Directory.Exists(path))
        {
            throw new DirectoryNotFoundException($"The folder of run exports '{path}' does not exist.");
        }

        var files = Directory.GetFiles(path, "*.json", SearchOption.TopDirectoryOnly).Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0)
        {
            throw new ArgumentException($"The folder '{path}' holds no *.json run export: nothing would be replayed.", nameof(folder));
        }

        var results = new List<ReplayResult>(files.Count);
        foreach (var file in files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Exception? error = null;
            try
            {
                var json = await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false);
                await WorkflowReplayer.ReplayAsync(json, workflows, services, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                error = ex;
            }

            var result = new ReplayResult(file, error);
            results.Add(result);
            progress?.Report(result);
        }

        return results.Exists(r => r.Error is not null) ? throw new ReplayFailedException(results) : results;
    }
}

/// <summary>How one exported run replayed (see <see cref="Replayer.ReplayFolderAsync"/>).</summary>
/// <param name="File">The export's full path.</param>
/// <param name="Error">Why it did not replay; <see langword="null"/> when it did.</param>
public sealed record ReplayResult(string File, Exception? Error)
{
    /// <summary>Whether the run replayed to the end of its journal without a mismatch.</summary>
    public bool Succeeded => Error is null;

    /// <inheritdoc/>
    public override string ToString()
        => Path.GetFileName(File) + (Error is null ? ": replayed" : $": {Error.GetType().Name}: {Error.Message}");
}

/// <summary>Exported runs did not replay against this build; <see cref="Results"/> has every file's outcome.</summary>
public sealed class ReplayFailedException : Exception
{
    /// <summary>Creates the exception from the results of a folder's replay.</summary>
    /// <param name="results">Every file's outcome, failures among them.</param>
    public ReplayFailedException(IReadOnlyList<ReplayResult> results)
        : base(Describe(results ?? throw new ArgumentNullException(nameof(results))))
    {
        Results = results;
    }

    /// <summary>Every file's outcome.</summary>
    public IReadOnlyList<ReplayResult> Results { get; }

    private static string Describe(IReadOnlyList<ReplayResult> results)
    {
        var failed = results.Where(r => !r.Succeeded).ToList();
        var text = new StringBuilder(string.Create(CultureInfo.InvariantCulture, $"{failed.Count} of {results.Count} exported run(s) did not replay against this build:"));
        foreach (var result in failed)
        {
            text.AppendLine().Append("  ").Append(result);
        }

        return text.ToString();
    }
}
