using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Durably.Runtime.Tests.Support;

/// <summary>
/// Starts the prebuilt crash helper (a worker process running five-step <c>CrashWorkflow</c> runs) and reads the side
/// log its step bodies append to, which outlives a killed process.
/// </summary>
internal static class CrashHelperProcess
{
    /// <param name="store">A SQLite file, or <c>postgres:</c> followed by a connection string.</param>
    /// <param name="bodyLog">The file the bodies append to.</param>
    /// <param name="runs">How many runs the helper starts (idempotently) and waits for.</param>
    /// <param name="workerName">The worker's stable name.</param>
    /// <param name="lease">The worker's lease, when not the default.</param>
    /// <param name="workflow">The helper's workflow: <c>crash</c> (the default), <c>nap:&lt;seconds&gt;</c> or <c>signal</c>.</param>
    public static Process Start(string store, string bodyLog, int runs, string workerName, TimeSpan? lease = null, string? workflow = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] arguments = [BuiltOutput.Path("tests/Durably.CrashHelper", "Durably.CrashHelper.dll"), store, bodyLog, runs.ToString(CultureInfo.InvariantCulture), workerName];
        if (lease is not null || workflow is not null)
        {
            arguments = [.. arguments, (lease ?? TimeSpan.FromSeconds(30)).TotalSeconds.ToString(CultureInfo.InvariantCulture)];
        }

        if (workflow is not null)
        {
            arguments = [.. arguments, workflow];
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start) ?? throw new InvalidOperationException("could not start the crash helper");
    }

    public static List<BodyEvent> ReadBodyLog(string path)
    {
        if (!File.Exists(path))
        {
            return [];
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var events = new List<BodyEvent>();
        while (reader.ReadLine() is { } line)
        {
            var parts = line.Split(' ');
            if (parts.Length == 6)
            {
                events.Add(new BodyEvent(parts[0], parts[1], long.Parse(parts[2], CultureInfo.InvariantCulture), int.Parse(parts[3], CultureInfo.InvariantCulture), parts[4], long.Parse(parts[5], CultureInfo.InvariantCulture)));
            }
        }

        return events;
    }

    /// <summary>
    /// Kills <paramref name="victim"/> (SIGKILL) the first time <paramref name="ready"/> approves, judged while the process
    /// is frozen (SIGSTOP, then SIGCONT when not ready): what the body log shows as the look approves is exactly what
    /// the kill cuts — no body can end between the look and the kill. False when the process exited first, or
    /// <paramref name="timeout"/> passed.
    /// </summary>
    public static async Task<bool> KillWhenAsync(Process victim, Func<bool> ready, TimeSpan timeout)
    {
        var started = Stopwatch.GetTimestamp();
        while (!victim.HasExited && Stopwatch.GetElapsedTime(started) < timeout)
        {
            Signal(victim, SigStop);
            if (ready())
            {
                victim.Kill();
                await victim.WaitForExitAsync();
                return true;
            }

            Signal(victim, SigCont);
            await Task.Delay(5);
        }

        return false;
    }

    private const int SigCont = 18;
    private const int SigStop = 19;

    private static void Signal(Process process, int signal)
    {
        if (Kill(process.Id, signal) != 0 && !process.HasExited)
        {
            throw new InvalidOperationException($"signal {signal} to process {process.Id} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    /// <summary>Bodies that started and have not logged their end.</summary>
    public static IEnumerable<BodyEvent> InFlight(List<BodyEvent> events)
        => events.Where(e => e.What == "start" && !events.Any(x => x.What == "end" && x.WorkflowId == e.WorkflowId && x.Sequence == e.Sequence));
}

/// <summary>One line of the crash helper's body log: a body's start or end, with its attempt, its key and the time in Unix ms.</summary>
internal sealed record BodyEvent(string What, string WorkflowId, long Sequence, int Attempt, string IdempotencyKey, long At);
