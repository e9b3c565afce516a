using System.Runtime.CompilerServices;

namespace Durably.Generators.Tests;

/// <summary>
/// Snapshot assertions on the Verify file convention: <c>_snapshots/&lt;Class&gt;.&lt;Method&gt;#&lt;HintName&gt;.verified.cs</c>,
/// first line <c>//HintName: …</c>, LF endings. A mismatch writes <c>.received.cs</c> beside it and fails; set
/// <c>DURABLY_ACCEPT_SNAPSHOTS=1</c> to accept the received output instead.
/// </summary>
internal static class Snapshot
{
    public static void Match(string hintName, string content, [CallerFilePath] string callerFile = "", [CallerMemberName] string method = "")
    {
        var directory = Path.Combine(Path.GetDirectoryName(callerFile)!, "_snapshots");
        var stem = $"{Path.GetFileNameWithoutExtension(callerFile)}.{method}#{hintName}";
        var extension = Path.GetExtension(hintName) == ".cs" ? ".cs" : ".txt";
        stem = Path.GetExtension(hintName) == ".cs" ? stem[..^3] : stem;
        var verified = Path.Combine(directory, stem + ".verified" + extension);
        var received = Path.Combine(directory, stem + ".received" + extension);

        var actual = $"//HintName: {hintName}\n" + content.ReplaceLineEndings("\n");
        var expected = File.Exists(verified) ? File.ReadAllText(verified).ReplaceLineEndings("\n") : null;
        if (actual == expected)
        {
            File.Delete(received);
            return;
        }

        Directory.CreateDirectory(directory);
        if (Environment.GetEnvironmentVariable("DURABLY_ACCEPT_SNAPSHOTS") == "1")
        {
            File.WriteAllText(verified, actual);
            File.Delete(received);
            return;
        }

        File.WriteAllText(received, actual);
        Assert.Fail(expected is null
            ? $"No snapshot yet: review {received} and rename it to {Path.GetFileName(verified)}, or run with DURABLY_ACCEPT_SNAPSHOTS=1."
            : $"Generated output differs from {Path.GetFileName(verified)}; see {received}. Accept with DURABLY_ACCEPT_SNAPSHOTS=1 if the change is intended.\n{FirstDifference(expected, actual)}");
    }

    private static string FirstDifference(string expected, string actual)
    {
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        for (var i = 0; i < Math.Max(e.Length, a.Length); i++)
        {
            var left = i < e.Length ? e[i] : "<end>";
            var right = i < a.Length ? a[i] : "<end>";
            if (left != right)
            {
                return $"line {i + 1}:\n  verified: {left}\n  received: {right}";
            }
        }

        return string.Empty;
    }
}
