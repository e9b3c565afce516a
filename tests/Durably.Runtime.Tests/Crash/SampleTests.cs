using System.Diagnostics;
using System.Text;
using Durably.Runtime.Journal;
using Durably.Runtime.Stores.Sqlite;
using Durably.Runtime.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Durably.Runtime.Tests.Crash;

/// <summary>The OrderFulfillment sample, run as a user would: killed mid-run, run again, it finishes without repeating a step.</summary>
public sealed class SampleTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durably-sample-" + Guid.NewGuid().ToString("N"));

    public SampleTests() => Directory.CreateDirectory(_directory);

    private string Database => Path.Combine(_directory, "sample.db");

    [Fact]
    public async Task The_sample_killed_mid_run_resumes_without_repeating_a_journaled_step()
    {
        // A Ship step starts only once Charge's completion is journaled: kill there, with the shipments in flight.
        var first = RunSample(killAfter: "step Ship(");
        Assert.DoesNotContain("Order order-7: done.", first, StringComparison.Ordinal);

        List<string> journaled;
        using (var store = SqliteWorkflowStore.Open(Database))
        {
            var snapshot = (await store.LoadAsync("order-7", default))!;
            Assert.Equal(WorkflowStatus.Running, snapshot.Run.Status);
            journaled = [.. snapshot.Journal.Where(e => e.State == JournalEntryState.Completed).Select(e => StepContext.CreateIdempotencyKey("order-7", e.OperationId, e.Sequence))];
        }

        SqliteConnection.ClearAllPools();
        Assert.Contains("order-7/Reserve/0", journaled);
        Assert.Contains("order-7/Charge/1", journaled);

        var second = RunSample(killAfter: null);

        Assert.All(journaled, key => Assert.DoesNotContain($"idempotency key {key})", second, StringComparison.Ordinal));
        var reservation = first.Split('\n').Single(l => l.Contains("step Reserve          done", StringComparison.Ordinal)).Split("-> ")[1].Split(' ')[0];
        Assert.Contains($"Order order-7: done. reservation {reservation}", second, StringComparison.Ordinal);

        var third = RunSample(killAfter: null);
        Assert.DoesNotContain("step ", third, StringComparison.Ordinal);
        Assert.Contains($"Order order-7: done. reservation {reservation}", third, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>
    /// Runs the prebuilt sample from a working directory of its own; kills it (SIGKILL) as soon as a line contains
    /// <paramref name="killAfter"/>. Output is read on a dedicated thread, so the kill does not wait for the thread pool.
    /// </summary>
    private string RunSample(string? killAfter)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = _directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { BuiltOutput.Path("samples/OrderFulfillment", "OrderFulfillment.dll"), "order-7", $"--Durably:Database={Database}", "--Sample:StepDelayMs=200" })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = new StringBuilder();
        var errors = new StringBuilder();
        process.ErrorDataReceived += (_, e) => errors.Append(e.Data);
        process.BeginErrorReadLine();
        var reader = new Thread(() =>
        {
            while (process.StandardOutput.ReadLine() is { } line)
            {
                output.Append(line).Append('\n');
                if (killAfter is not null && line.Contains(killAfter, StringComparison.Ordinal))
                {
                    process.Kill();
                    return;
                }
            }
        })
        { IsBackground = true };
        reader.Start();

        Assert.True(reader.Join(TimeSpan.FromSeconds(60)), $"the sample did not finish in 60 s: {output}");
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(30)), "the sample did not exit");
        if (killAfter is null)
        {
            Assert.True(process.ExitCode == 0, $"the sample exited with {process.ExitCode}: {output}{errors}");
        }

        return output.ToString();
    }
}
