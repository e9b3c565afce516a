using System.Diagnostics;
using Durably.Packaging.Tests;

namespace Durably.Cli.Tests;

/// <summary>
/// The <c>durably</c> tool as users get it: packed from src/Cli into a folder feed and installed with
/// <c>dotnet tool install --tool-path</c>, once per test run; <see cref="Run"/> starts the installed command.
/// </summary>
public sealed class PackedTool : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "durably-cli-" + Guid.NewGuid().ToString("N"));

    public PackedTool()
    {
        var version = "0.0.0-clitest." + DateTime.UtcNow.ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture);
        var feed = Path.Combine(_root, "feed");
        var tools = Path.Combine(_root, "tools");
        DotnetCli.Run(RepositoryRoot(), null, "pack", "src/Cli/Durably.Cli.csproj", "-o", feed, "-c", "Release", "-nodeReuse:false", $"-p:Version={version}",
            "-p:UseArtifactsOutput=true", $"-p:ArtifactsPath={Path.Combine(_root, "artifacts")}");
        DotnetCli.Run(_root, new Dictionary<string, string> { ["NUGET_PACKAGES"] = Path.Combine(_root, "packages") },
            "tool", "install", "Durably.Cli", "--tool-path", tools, "--add-source", feed, "--version", version);
        Command = Path.Combine(tools, OperatingSystem.IsWindows() ? "durably.exe" : "durably");
    }

    /// <summary>The installed <c>durably</c> command.</summary>
    public string Command { get; }

    /// <summary>Runs <c>durably</c> with <paramref name="arguments"/>; environment variables naming a store are cleared unless given.</summary>
    public CliResult Run(IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        var start = new ProcessStartInfo(Command) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var variable in new[] { "DURABLY_SQLITE", "DURABLY_POSTGRES", "DURABLY_OPERATOR" })
        {
            start.Environment.Remove(variable);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {Command}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"durably {string.Join(' ', arguments)} did not finish in 2 minutes.");
        }

        return new CliResult(process.ExitCode, stdout.Result, stderr.Result, string.Join(' ', arguments));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // Left for the system's temp sweep.
        }
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Sdk.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (Sdk.sln) was not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>What one run of the tool did.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr, string Arguments)
{
    public override string ToString() => $"durably {Arguments} → exit {ExitCode}\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
}

[CollectionDefinition(Name)]
public sealed class PackedToolCollection : ICollectionFixture<PackedTool>
{
    public const string Name = "packed durably tool";
}
