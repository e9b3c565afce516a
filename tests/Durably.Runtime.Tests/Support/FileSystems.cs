using System.Diagnostics;
using Microsoft.Data.Sqlite;

namespace Durably.Runtime.Tests.Support;

/// <summary>A fact that needs root (it mounts file systems); skipped, saying so, for anyone else. CI runs as root.</summary>
internal sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (!FileSystems.IsRoot)
        {
            Skip = "Needs root: the test mounts a small tmpfs to fill it (CI runs as root).";
        }
    }
}

/// <summary>A theory that needs root; skipped, saying so, for anyone else.</summary>
internal sealed class RootTheoryAttribute : TheoryAttribute
{
    public RootTheoryAttribute()
    {
        if (!FileSystems.IsRoot)
        {
            Skip = "Needs root: the test mounts a small tmpfs to fill it (CI runs as root).";
        }
    }
}

/// <summary>Real file systems for fault tests: a small tmpfs a test can fill, and read-only folders.</summary>
internal sealed class FileSystems : IDisposable
{
    private readonly bool _mounted;

    private FileSystems(string path, bool mounted)
    {
        Path = path;
        _mounted = mounted;
    }

    public static bool IsRoot => OperatingSystem.IsLinux() && Environment.UserName == "root";

    /// <summary>The folder.</summary>
    public string Path { get; }

    /// <summary>A tmpfs of <paramref name="size"/> (such as "4m"), mounted at a fresh folder. Root only.</summary>
    public static FileSystems SmallTmpfs(string size)
    {
        var path = FreshFolder();
        Run("mount", "-t", "tmpfs", "-o", $"size={size},mode=0777", "tmpfs", path);
        return new FileSystems(path, mounted: true);
    }

    /// <summary>
    /// A folder the process cannot write to, holding what <paramref name="prepare"/> put there while it could: a tmpfs
    /// remounted read-only when root (root writes through permission bits), a folder with mode 0555 otherwise.
    /// </summary>
    public static FileSystems ReadOnlyFolder(Action<string>? prepare = null)
    {
        if (IsRoot)
        {
            var mounted = SmallTmpfs("4m");
            prepare?.Invoke(mounted.Path);
            SqliteConnection.ClearAllPools();
            Run("mount", "-o", "remount,ro", mounted.Path);
            return mounted;
        }

        var path = FreshFolder();
        prepare?.Invoke(path);
        SqliteConnection.ClearAllPools();
        SetMode(path, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        return new FileSystems(path, mounted: false);
    }

    /// <summary>Writes zeros into <paramref name="name"/> until the file system says it is full.</summary>
    public void Fill(string name = "filler")
    {
        var buffer = new byte[64 * 1024];
        try
        {
            using var filler = new FileStream(System.IO.Path.Combine(Path, name), FileMode.Append, FileAccess.Write, FileShare.None, 1);
            while (true)
            {
                filler.Write(buffer);
                filler.Flush();
            }
        }
        catch (IOException)
        {
            // ENOSPC: full.
        }

        // The last partial block too.
        buffer = new byte[512];
        try
        {
            using var filler = new FileStream(System.IO.Path.Combine(Path, name + "-tail"), FileMode.Append, FileAccess.Write, FileShare.None, 1);
            while (true)
            {
                filler.Write(buffer);
                filler.Flush();
            }
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Deletes what <see cref="Fill"/> wrote.</summary>
    public void Free(string name = "filler")
    {
        File.Delete(System.IO.Path.Combine(Path, name));
        File.Delete(System.IO.Path.Combine(Path, name + "-tail"));
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        if (_mounted)
        {
            Run("umount", "-l", Path);
        }
        else
        {
            SetMode(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        Directory.Delete(Path, recursive: true);
    }

    private static void SetMode(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, mode);
        }
    }

    private static string FreshFolder()
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "durably-fs-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    private static void Run(string file, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardError = true }) ?? throw new InvalidOperationException($"{file} did not start");
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed with exit code {process.ExitCode}: {error}");
        }
    }
}
