using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;

namespace Durably.Runtime.Stores;

/// <summary>
/// What a SQLite error means for Durably: its <see cref="StoreFault"/>, and a message that names the database, what the
/// store was doing, and SQLite's own error — never a second error that happened while cleaning up after the first.
/// </summary>
internal static partial class SqliteErrors
{
    // Primary result codes, https://www.sqlite.org/rescode.html.
    private const int Perm = 3;
    private const int Busy = 5;
    private const int Locked = 6;
    private const int NoMem = 7;
    private const int ReadOnly = 8;
    private const int IoErr = 10;
    private const int Corrupt = 11;
    private const int Full = 13;
    private const int CantOpen = 14;
    private const int Protocol = 15;
    private const int Schema = 17;
    private const int NotADb = 26;

    /// <summary>The fault an error code stands for.</summary>
    public static StoreFault Classify(SqliteException exception) => exception.SqliteErrorCode switch
    {
        Full => StoreFault.Full,
        ReadOnly or Perm => StoreFault.ReadOnly,
        Busy or Locked => StoreFault.Locked,
        IoErr or NoMem or CantOpen or Protocol or Schema => StoreFault.Transient,
        _ => StoreFault.Fatal,
    };

    /// <summary>The exception the store throws for <paramref name="exception"/>, met while doing <paramref name="operation"/>.</summary>
    public static DurableStoreException Wrap(string path, string operation, SqliteException exception, TimeSpan busyTimeout)
        => Wrap(path, operation, exception, ClassifyAt(path, exception), busyTimeout);

    /// <summary>
    /// As <see cref="Classify"/>, and an I/O error on a file system with no room left is a full disk: SQLite reports
    /// some writes that fail for want of space (its shared-memory file, say) as I/O errors, not as SQLITE_FULL.
    /// </summary>
    public static StoreFault ClassifyAt(string path, SqliteException exception)
        => exception.SqliteErrorCode == IoErr && FreeBytes(path) is < 64 * 1024 ? StoreFault.Full : Classify(exception);

    /// <summary>The room left on the file system that holds <paramref name="path"/>; null when it cannot be told.</summary>
    private static long? FreeBytes(string path)
    {
        try
        {
            var drive = DriveInfo.GetDrives()
                .Where(d => d.IsReady && path.StartsWith(d.RootDirectory.FullName, StringComparison.Ordinal))
                .MaxBy(d => d.RootDirectory.FullName.Length);
            return drive?.AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>As <see cref="Wrap(string, string, SqliteException, TimeSpan)"/>, with the fault already decided.</summary>
    public static DurableStoreException Wrap(string path, string operation, SqliteException exception, StoreFault fault, TimeSpan busyTimeout)
    {
        var sqlite = $"SQLite error {exception.SqliteErrorCode}: {Text(exception)}";
        var message = fault switch
        {
            StoreFault.Full => $"The Durably database '{path}' cannot be written ({operation}): the disk or file system is full ({sqlite}). "
                + "Free space there; a worker retries on its own, and nothing already journaled is lost.",
            StoreFault.ReadOnly => $"The Durably database '{path}' is read-only ({operation}; {sqlite}). "
                + "Durably must write its journal: give the process write access to the file and its folder, on a writable file system.",
            StoreFault.Locked => $"The Durably database '{path}' stayed locked by another connection for longer than {busyTimeout.TotalSeconds:0.#} s ({operation}; {sqlite}). "
                + "Another process or tool is holding a long write transaction on the file.",
            StoreFault.Transient => $"The Durably database '{path}' failed for a moment ({operation}; {sqlite}); the call may be tried again.",
            _ when exception.SqliteErrorCode == NotADb => $"The file '{path}' is not a SQLite database, so it cannot be a Durably database ({sqlite}). Point Durably at another path.",
            _ when exception.SqliteErrorCode == Corrupt => $"The Durably database '{path}' is damaged ({operation}; {sqlite}). Restore it from a backup.",
            _ => $"The Durably database '{path}' refused a statement ({operation}; {sqlite}).",
        };
        return new DurableStoreException(message, fault, exception);
    }

    /// <summary>
    /// Whether files can be created in <paramref name="directory"/> (or its nearest existing ancestor): SQLite says only
    /// "unable to open database file" when a read-only folder or file system keeps it from creating the database or its
    /// WAL files, so the store looks for itself. Null when it can; otherwise why not.
    /// </summary>
    public static string? WhyNotWritable(string directory)
    {
        var existing = directory;
        while (!Directory.Exists(existing) && Path.GetDirectoryName(existing) is { Length: > 0 } parent)
        {
            existing = parent;
        }

        try
        {
            using var probe = new FileStream(Path.Combine(existing, $".durably-write-probe-{Guid.NewGuid():N}"), FileMode.CreateNew, FileAccess.Write,
                FileShare.None, 1, FileOptions.DeleteOnClose);
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"'{existing}' does not accept new files: {ex.Message}";
        }
    }

    /// <summary>SQLite's own words, without Microsoft.Data.Sqlite's "SQLite Error n: '…'." wrapping.</summary>
    private static string Text(SqliteException exception)
        => WrappedMessage().Match(exception.Message) is { Success: true } match ? $"'{match.Groups[1].Value}'" : exception.Message;

    [GeneratedRegex(@"^SQLite Error \d+: '(.*)'\.?$", RegexOptions.Singleline)]
    private static partial Regex WrappedMessage();
}
