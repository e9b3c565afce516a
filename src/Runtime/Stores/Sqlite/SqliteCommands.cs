using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Durably.Runtime.Stores;

/// <summary>The ADO.NET plumbing of the SQLite store: a statement with its parameters, run or read, and transactions.</summary>
internal static class SqliteCommands
{
    /// <summary>How a transaction starts: a read sees one moment; a write takes the file's write lock at once.</summary>
    public enum TransactionKind
    {
        /// <summary><c>BEGIN DEFERRED</c>.</summary>
        Read,

        /// <summary><c>BEGIN IMMEDIATE</c>: the write lock is taken at the start, so the reads inside see what the writes change.</summary>
        Write,
    }

    public static int Execute(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, sql, parameters);
        return command.ExecuteNonQuery();
    }

    public static List<T> Query<T>(SqliteConnection connection, string sql, Func<DbDataReader, T> read, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, sql, parameters);
        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read())
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    public static SqliteCommand Command(SqliteConnection connection, string sql, (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    /// <summary>
    /// Runs <paramref name="work"/> in one transaction and commits it; on any failure, rolls it back if SQLite has not
    /// already done so, and lets the first failure out.
    /// </summary>
    /// <remarks>
    /// Plain <c>BEGIN</c>/<c>COMMIT</c> statements rather than <see cref="SqliteTransaction"/>: after some errors (a full
    /// disk or an I/O error at <c>COMMIT</c>) SQLite rolls the transaction back by itself, and a second <c>ROLLBACK</c>
    /// then fails with "cannot rollback - no transaction is active" — which <see cref="SqliteTransaction"/>'s dispose
    /// throws over the real error.
    /// </remarks>
    public static T InTransaction<T>(SqliteConnection connection, TransactionKind kind, Func<T> work)
    {
        Execute(connection, kind == TransactionKind.Write ? "BEGIN IMMEDIATE;" : "BEGIN DEFERRED;");
        try
        {
            var result = work();
            Execute(connection, "COMMIT;");
            return result;
        }
        catch
        {
            RollBackIfOpen(connection);
            throw;
        }
    }

    private static void RollBackIfOpen(SqliteConnection connection)
    {
        if (SQLitePCL.raw.sqlite3_get_autocommit(connection.Handle) != 0)
        {
            // SQLite ended the transaction itself.
            return;
        }

        try
        {
            Execute(connection, "ROLLBACK;");
        }
        catch (SqliteException)
        {
            // The failure being reported is the one that matters; this connection must not go back to the pool half-way
            // through a transaction, so the pool is dropped and the next call opens a fresh connection.
            SqliteConnection.ClearPool(connection);
        }
    }
}
