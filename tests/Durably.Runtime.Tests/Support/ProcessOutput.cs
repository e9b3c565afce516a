using System.Diagnostics;
using System.Text;

namespace Durably.Runtime.Tests.Support;

/// <summary>
/// A started process's output, kept for assertions: standard output read line by line on a dedicated thread (so a line
/// can be acted on the moment it is printed, without waiting for the thread pool), standard error as it comes — with
/// standard output, or apart.
/// </summary>
internal sealed class ProcessOutput
{
    private readonly StringBuilder _text = new();
    private readonly StringBuilder _errors;
    private readonly Thread _reader;

    /// <param name="process">Started with both outputs redirected.</param>
    /// <param name="errorsApart">Keep standard error in <see cref="Errors"/> rather than in <see cref="Text"/>.</param>
    /// <param name="stopAfter">Called on the reader thread with each line; reading stops when it returns true.</param>
    public ProcessOutput(Process process, bool errorsApart, Func<string, bool>? stopAfter = null)
    {
        _errors = errorsApart ? new StringBuilder() : _text;
        process.ErrorDataReceived += (_, e) => Append(_errors, e.Data);
        process.BeginErrorReadLine();
        _reader = new Thread(() =>
        {
            while (process.StandardOutput.ReadLine() is { } line)
            {
                Append(_text, line);
                if (stopAfter?.Invoke(line) == true)
                {
                    return;
                }
            }
        })
        { IsBackground = true };
        _reader.Start();
    }

    /// <summary>What was printed so far, one line per line.</summary>
    public string Text => Read(_text);

    /// <summary>Standard error so far, when kept apart.</summary>
    public string Errors => Read(_errors);

    /// <summary>Waits for standard output to end (or reading to stop); false when it has not within <paramref name="timeout"/>.</summary>
    public bool WaitForEnd(TimeSpan timeout) => _reader.Join(timeout);

    private static void Append(StringBuilder to, string? line)
    {
        if (line is not null)
        {
            lock (to)
            {
                to.Append(line).Append('\n');
            }
        }
    }

    private static string Read(StringBuilder from)
    {
        lock (from)
        {
            return from.ToString();
        }
    }
}
