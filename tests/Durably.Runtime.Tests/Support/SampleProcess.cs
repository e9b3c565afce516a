using System.Diagnostics;

namespace Durably.Runtime.Tests.Support;

/// <summary>
/// The prebuilt OrderFulfillment sample as a process of its own. Its output is read on a dedicated thread, which can
/// kill it (SIGKILL) the moment a line contains a given text, without waiting for the thread pool.
/// </summary>
internal sealed class SampleProcess : IDisposable
{
    private readonly Process _process;
    private readonly ProcessOutput _output;

    private SampleProcess(string workingDirectory, IEnumerable<string> arguments, string? killAfter)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(BuiltOutput.Path("samples/OrderFulfillment", "OrderFulfillment.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        _process = Process.Start(start)!;
        _output = new ProcessOutput(_process, errorsApart: true, line =>
        {
            if (killAfter is not null && line.Contains(killAfter, StringComparison.Ordinal))
            {
                _process.Kill();
                return true;
            }

            return false;
        });
    }

    public string Output => _output.Text;

    /// <summary>Starts the sample; kills it as soon as a line contains <paramref name="killAfter"/>.</summary>
    public static SampleProcess Start(string workingDirectory, IEnumerable<string> arguments, string? killAfter = null)
        => new(workingDirectory, arguments, killAfter);

    /// <summary>Runs the sample to its end (or its kill) and returns what it printed.</summary>
    public static string Run(string workingDirectory, IEnumerable<string> arguments, string? killAfter = null)
    {
        using var sample = Start(workingDirectory, arguments, killAfter);
        return sample.WaitForExit(expectSuccess: killAfter is null);
    }

    /// <summary>Waits for the process to end (60 s at most) and returns its output.</summary>
    public string WaitForExit(bool expectSuccess)
    {
        Assert.True(_output.WaitForEnd(TimeSpan.FromSeconds(60)), $"the sample did not finish in 60 s: {Output}");
        Assert.True(_process.WaitForExit(TimeSpan.FromSeconds(30)), "the sample did not exit");
        if (expectSuccess)
        {
            Assert.True(_process.ExitCode == 0, $"the sample exited with {_process.ExitCode}: {Output}{_output.Errors}");
        }

        return Output;
    }

    /// <summary>Kills the process (SIGKILL) and returns its output.</summary>
    public string Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        return WaitForExit(expectSuccess: false);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        _process.Dispose();
    }
}
