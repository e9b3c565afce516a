using System.Diagnostics;
using System.Text.RegularExpressions;
using Durably.Runtime.Stores;
using Durably.Runtime.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Durably.Runtime.Tests.Crash;

/// <summary>
/// The README's crash-and-resume walkthrough, run as written: its three commands from the README itself, the kill
/// command the sample prints, and a Ctrl+C (SIGINT) — on a database of the test's own (Durably__Database) at a
/// quicker pace (Sample__StepDelayMs), both set in the environment so the commands stay exactly as printed.
/// </summary>
public sealed partial class WalkthroughTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("durably-walkthrough-").FullName;

    private string Database => Path.Combine(_directory, "sample.db");

    [Fact]
    public async Task The_readme_walkthrough_crashes_resumes_and_stops_gracefully_as_it_says()
    {
        var commands = WalkthroughCommands();
        Assert.Equal(3, commands.Count);
        Assert.All(commands, c => Assert.Equal("dotnet run --project samples/OrderFulfillment", c));

        // 1. A new order; killed with the command the sample prints, while it ships.
        using (var first = Shell.Start(commands[0], _directory))
        {
            await first.WaitForLineAsync("step Ship(");
            var kill = KillCommand().Match(first.Output).Value;
            Assert.Equal("kill -9 " + first.SamplePid(), kill);
            using (var killer = Shell.Start(kill, _directory))
            {
                Assert.Equal(0, await killer.WaitForExitAsync());
            }

            // dotnet run ends when its child does.
            Assert.NotEqual(0, await first.WaitForExitAsync());
            Assert.Contains("Order order-1001: started", first.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("Order order-1001: done", first.Output, StringComparison.Ordinal);
        }

        // 2. The same command resumes that order: the steps journaled before the kill do not run again.
        using (var second = Shell.Start(commands[1], _directory))
        {
            Assert.Equal(0, await second.WaitForExitAsync());
            var output = second.Output;
            Assert.Contains("Resuming order order-1001, which a previous run left unfinished.", output, StringComparison.Ordinal);
            Assert.DoesNotContain("idempotency key order-1001/Reserve/0)", output, StringComparison.Ordinal);
            Assert.DoesNotContain("idempotency key order-1001/Charge/1)", output, StringComparison.Ordinal);
            Assert.Contains("Order order-1001: done. reservation", output, StringComparison.Ordinal);
            Assert.Contains("Order order-1001-piano: failed and rolled back.", output, StringComparison.Ordinal);
        }

        // 3. Nothing left unfinished: the next order. Ctrl+C (SIGINT to the sample) stops it gracefully and releases it —
        // at the sample's own pace (800 ms a step), so that work is still in flight when the one-second drain ends.
        string thirdOutput;
        using (var third = Shell.Start(commands[2], _directory, stepDelayMs: 800))
        {
            await third.WaitForLineAsync("step Ship(");
            using (var interrupt = Shell.Start("kill -INT " + third.SamplePid(), _directory))
            {
                Assert.Equal(0, await interrupt.WaitForExitAsync());
            }

            Assert.Equal(0, await third.WaitForExitAsync());
            Assert.Contains("Order order-1002: started", third.Output, StringComparison.Ordinal);
            Assert.Contains("Stopping: runs in progress are released. Run the same command again to resume order order-1002.", third.Output, StringComparison.Ordinal);
            thirdOutput = third.Output;
        }

        using var store = SqliteWorkflowStore.Open(Database);
        var released = (await store.GetRunAsync("order-1002", default))!;
        Assert.True((released.Status, released.Owner) == (WorkflowStatus.Running, null),
            $"order-1002 is {released.Status} (owner {released.Owner ?? "none"}) after the graceful stop, not released; the sample said:\n{thirdOutput}");
    }

    /// <summary>The commands of the README's walkthrough block, without their comments.</summary>
    private static List<string> WalkthroughCommands()
    {
        var readme = File.ReadAllText(Path.Combine(BuiltOutput.Repository, "README.md"));
        var block = readme[readme.IndexOf("<!-- walkthrough", StringComparison.Ordinal)..];
        block = block[(block.IndexOf("```bash\n", StringComparison.Ordinal) + 8)..];
        block = block[..block.IndexOf("```", StringComparison.Ordinal)];
        return [.. block.Split('\n').Select(l => l.Split('#')[0].Trim()).Where(l => l.Length > 0)];
    }

    [GeneratedRegex(@"kill -9 \d+")]
    private static partial Regex KillCommand();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>A command run by bash from the repository's root, as a user types it, with the sample pointed at the test's database.</summary>
    private sealed class Shell : IDisposable
    {
        private readonly Process _process;
        private readonly ProcessOutput _output;

        private Shell(string command, string directory, int stepDelayMs)
        {
            var start = new ProcessStartInfo("bash", ["-c", command])
            {
                WorkingDirectory = BuiltOutput.Repository,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.Environment["Durably__Database"] = Path.Combine(directory, "sample.db");
            start.Environment["Sample__StepDelayMs"] = stepDelayMs.ToString(System.Globalization.CultureInfo.InvariantCulture);
            _process = Process.Start(start)!;
            _output = new ProcessOutput(_process, errorsApart: false);
        }

        public string Output => _output.Text;

        public static Shell Start(string command, string directory, int stepDelayMs = 200) => new(command, directory, stepDelayMs);

        /// <summary>The sample's own process id, as it printed it.</summary>
        public string SamplePid() => Regex.Match(Output, @"Sample process (\d+)\.").Groups[1].Value;

        public Task WaitForLineAsync(string text)
            => Wait.UntilAsync(() => Output.Contains(text, StringComparison.Ordinal), $"a line with '{text}' in: {Output}", TimeSpan.FromMinutes(3));

        public async Task<int> WaitForExitAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            await _process.WaitForExitAsync(timeout.Token);
            _output.WaitForEnd(TimeSpan.FromSeconds(10));
            return _process.ExitCode;
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            _process.Dispose();
        }
    }
}
