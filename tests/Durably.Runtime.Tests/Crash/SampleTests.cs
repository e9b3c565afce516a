using System.Diagnostics;
using System.Text;
using Microsoft.Data.Sqlite;

namespace Durably.Runtime.Tests.Crash;

/// <summary>The OrderFulfillment sample, run as a user would: killed mid-run, run again, it finishes without repeating a step.</summary>
public sealed class SampleTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durably-sample-" + Guid.NewGuid().ToString("N"));

    public SampleTests() => Directory.CreateDirectory(_directory);

    [Fact]
    public async Task The_sample_killed_after_two_steps_resumes_without_repeating_them()
    {
        // A Ship step starts only once Charge's completion is journaled: kill there, with the shipments in flight.
        var first = await RunSampleAsync(killAfter: "step Ship(");
        Assert.Contains("step Reserve          done", first, StringComparison.Ordinal);
        Assert.DoesNotContain("Order order-7: done.", first, StringComparison.Ordinal);

        var second = await RunSampleAsync(killAfter: null);

        Assert.DoesNotContain("step Reserve", second, StringComparison.Ordinal);
        Assert.DoesNotContain("step Charge", second, StringComparison.Ordinal);
        Assert.Contains("step Confirm          done", second, StringComparison.Ordinal);
        var reservation = first.Split('\n').Single(l => l.Contains("step Reserve          done", StringComparison.Ordinal)).Split("-> ")[1].Split(' ')[0];
        Assert.Contains($"Order order-7: done. reservation {reservation}", second, StringComparison.Ordinal);

        var third = await RunSampleAsync(killAfter: null);
        Assert.DoesNotContain("step ", third, StringComparison.Ordinal);
        Assert.Contains($"Order order-7: done. reservation {reservation}", third, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>Runs the prebuilt sample from a working directory of its own; kills it (SIGKILL) when a line contains <paramref name="killAfter"/>.</summary>
    private async Task<string> RunSampleAsync(string? killAfter)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = _directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { SamplePath(), "order-7", $"--Durably:Database={Path.Combine(_directory, "sample.db")}", "--Sample:StepDelayMs=150" })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = new StringBuilder();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            output.Append(line).Append('\n');
            if (killAfter is not null && line.Contains(killAfter, StringComparison.Ordinal))
            {
                process.Kill();
                break;
            }
        }

        await process.WaitForExitAsync(timeout.Token);
        if (killAfter is null)
        {
            Assert.True(process.ExitCode == 0, $"the sample exited with {process.ExitCode}: {output}{await errors}");
        }

        return output.ToString();
    }

    private static string SamplePath()
    {
        var output = new DirectoryInfo(AppContext.BaseDirectory);
        var repository = output.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
        var path = Path.Combine(repository, "samples", "OrderFulfillment", "bin", output.Parent.Name, output.Name, "OrderFulfillment.dll");
        Assert.True(File.Exists(path), $"the sample is not built at {path}");
        return path;
    }
}
