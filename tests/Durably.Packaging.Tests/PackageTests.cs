using System.IO.Compression;

namespace Durably.Packaging.Tests;

/// <summary>
/// Packs the packages (Durably, Durably.Runtime, Durably.Testing, Durably.Dashboard, the durably tool), restores them from a local folder source into a throwaway app that has a private [Step] and
/// no Durably-specific MSBuild settings, builds it and runs it: the way users get Durably.
/// </summary>
public sealed class PackageTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "durably-packaging-" + Guid.NewGuid().ToString("N"));
    private readonly string _version = "0.0.0-packagetest." + DateTime.UtcNow.ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void Packed_packages_deliver_the_generator_and_interceptors_to_an_app()
    {
        var repository = FindRepositoryRoot();
        var feed = Path.Combine(_root, "feed");
        // Building into a private artifacts folder keeps this test off the developer's own bin/obj.
        string[] isolation = ["-c", "Release", "-nodeReuse:false", $"-p:Version={_version}", "-p:UseArtifactsOutput=true", $"-p:ArtifactsPath={Path.Combine(_root, "artifacts")}"];
        DotnetCli.Run(repository, null, ["pack", "src/Sdk/Durably.csproj", "-o", feed, .. isolation]);
        DotnetCli.Run(repository, null, ["pack", "src/Runtime/Durably.Runtime.csproj", "-o", feed, .. isolation]);
        DotnetCli.Run(repository, null, ["pack", "src/Testing/Durably.Testing.csproj", "-o", feed, .. isolation]);
        DotnetCli.Run(repository, null, ["pack", "src/Dashboard/Durably.Dashboard.csproj", "-o", feed, .. isolation]);
        DotnetCli.Run(repository, null, ["pack", "src/Cli/Durably.Cli.csproj", "-o", feed, .. isolation]);

        AssertPackageContains(Path.Combine(feed, $"Durably.{_version}.nupkg"),
            "analyzers/dotnet/cs/Durably.Generators.dll", "analyzers/dotnet/cs/Durably.CodeFixes.dll", "buildTransitive/Durably.props", "buildTransitive/Durably.targets", "lib/net10.0/Durably.dll");
        AssertPackageContains(Path.Combine(feed, $"Durably.Runtime.{_version}.nupkg"), "lib/net10.0/Durably.Runtime.dll");
        AssertPackageContains(Path.Combine(feed, $"Durably.Testing.{_version}.nupkg"), "lib/net10.0/Durably.Testing.dll");
        AssertPackageContains(Path.Combine(feed, $"Durably.Dashboard.{_version}.nupkg"), "lib/net10.0/Durably.Dashboard.dll");
        AssertPackageContains(Path.Combine(feed, $"Durably.Cli.{_version}.nupkg"), "tools/net10.0/any/Durably.Cli.dll", "tools/net10.0/any/DotnetToolSettings.xml");

        var app = Path.Combine(_root, "app");
        Directory.CreateDirectory(app);
        var template = Path.Combine(AppContext.BaseDirectory, "TestApp");
        File.Copy(Path.Combine(template, "Program.cs"), Path.Combine(app, "Program.cs"));
        File.WriteAllText(Path.Combine(app, "PackagedApp.csproj"),
            File.ReadAllText(Path.Combine(template, "PackagedApp.csproj.template")).Replace("$(DurablyVersion)", _version, StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="durably-under-test" value="{feed}" />
              </packageSources>
            </configuration>
            """);

        // A private package cache: a package with this version can never come from an earlier run.
        var environment = new Dictionary<string, string> { ["NUGET_PACKAGES"] = Path.Combine(_root, "packages") };
        DotnetCli.Run(app, environment, "build", "-c", "Release", "-nodeReuse:false");
        var output = DotnetCli.Run(app, environment, "bin/Release/net10.0/PackagedApp.dll");

        Assert.Contains("hello world from step Greet with key packaged-1/Greet/0", output, StringComparison.Ordinal);
        // The test kit from its package: the same workflow run to completion in a DurableTestHost.
        Assert.Contains("test host: hello kit from step Greet with key packaged-2/Greet/0", output, StringComparison.Ordinal);
        // The dashboard from its package: mounted, and its overview served.
        Assert.Contains("dashboard: Overview", output, StringComparison.Ordinal);

        // The one command that accepts the workflows' contracts works from the packages alone: the durably tool runs it.
        var tools = Path.Combine(_root, "tools");
        DotnetCli.Run(app, environment, "tool", "install", "Durably.Cli", "--tool-path", tools, "--add-source", feed, "--version", _version);
        var accepted = ToolRun(app, environment, Path.Combine(tools, "durably"), "contracts", "accept");
        Assert.Contains("Durably: accepted the contracts of PackagedApp", accepted, StringComparison.Ordinal);
        var contracts = File.ReadAllText(Path.Combine(app, "durably.contracts.json"));
        Assert.Contains("\"name\": \"Greeter\"", contracts, StringComparison.Ordinal);
        Assert.Contains("\"step Greet (string) -> string\"", contracts, StringComparison.Ordinal);
        Assert.Contains("\"calls step:Greet\"", contracts, StringComparison.Ordinal);
        Assert.StartsWith("{", contracts, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private static string ToolRun(string directory, Dictionary<string, string> environment, string tool, params string[] arguments)
    {
        var start = new System.Diagnostics.ProcessStartInfo(tool) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var name in start.Environment.Keys.Where(n => n.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || n.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(5)), $"{tool} {string.Join(' ', arguments)} did not finish in 5 minutes");
        Assert.True(process.ExitCode == 0, $"{tool} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{output.Result}\n{error.Result}");
        return output.Result + error.Result;
    }

    private static void AssertPackageContains(string package, params string[] entries)
    {
        using var zip = ZipFile.OpenRead(package);
        var names = zip.Entries.Select(e => e.FullName).ToHashSet(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            Assert.True(names.Contains(entry), $"{Path.GetFileName(package)} lacks {entry}; it has: {string.Join(", ", names.Order())}");
        }
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Sdk.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Sdk.sln above {AppContext.BaseDirectory}.");
    }
}
