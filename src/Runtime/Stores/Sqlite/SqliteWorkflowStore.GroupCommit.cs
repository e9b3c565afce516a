using Durably.Runtime.Journal;
using Microsoft.Data.Sqlite;
using static Durably.Runtime.Stores.SqliteCommands;

namespace Durably.Runtime.Stores;

/// <summary>
/// Group commit: SQLite has one writer, so writes that arrive while one is being written wait — and then go together,
/// in one transaction and one sync to disk. Alone, a write is committed at once, as before; under load, many runs'
/// journal writes share a flush. Each write keeps its own fencing checks, and its own failure: it runs inside a
/// savepoint, so a write that throws is undone alone and the others commit.
/// </summary>
public sealed partial class SqliteWorkflowStore
{
    /// <summary>The most writes one transaction takes.</summary>
    private const int MaxWritesPerCommit = 64;

    private readonly List<PendingWrite> _pending = [];
    private bool _draining;
    private int _commits;

    /// <summary>How many write transactions the store has committed or tried (for tests of group commit).</summary>
    internal int WriteTransactions => Volatile.Read(ref _commits);

    /// <summary>Queues <paramref name="write"/>; the first writer to find no one writing writes the queue, in batches.</summary>
    private Task<T> EnqueueWrite<T>(JournalDurability durability, Func<SqliteConnection, T> write, string operation, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var pending = new PendingWrite<T>(write, durability, operation);
        bool drain;
        lock (_pending)
        {
            _pending.Add(pending);
            drain = !_draining;
            _draining = true;
        }

        if (drain)
        {
            DrainOnce();
        }

        return pending.Task;
    }

    /// <summary>Writes one batch, then hands the rest (written meanwhile) to the thread pool, so no caller serves others for long.</summary>
    private void DrainOnce()
    {
        PendingWrite[] batch;
        lock (_pending)
        {
            batch = [.. _pending.Take(MaxWritesPerCommit)];
            _pending.RemoveRange(0, batch.Length);
        }

        Commit(batch);
        lock (_pending)
        {
            if (_pending.Count == 0)
            {
                _draining = false;
                return;
            }
        }

        _ = Task.Run(DrainOnce);
    }

    private void Commit(PendingWrite[] batch)
    {
        Interlocked.Increment(ref _commits);
        try
        {
            using var connection = OpenConnection();
            if (batch.All(p => p.Durability != JournalDurability.Durable))
            {
                // Only this commit: OpenConnection sets synchronous = FULL again on every use of a pooled connection.
                Execute(connection, "PRAGMA synchronous = NORMAL;");
            }

            InTransaction(connection, TransactionKind.Write, () =>
            {
                foreach (var write in batch)
                {
                    if (batch.Length == 1)
                    {
                        write.Run(connection);
                        continue;
                    }

                    Execute(connection, "SAVEPOINT write;");
                    try
                    {
                        write.Run(connection);
                        Execute(connection, "RELEASE write;");
                    }
                    catch (Exception)
                    {
                        if (SQLitePCL.raw.sqlite3_get_autocommit(connection.Handle) != 0)
                        {
                            // SQLite ended the whole transaction (a full disk, say): the batch fails with this error.
                            throw;
                        }

                        // Undone alone: the other writes of the batch go on and commit.
                        Execute(connection, "ROLLBACK TO write; RELEASE write;");
                    }
                }

                return 0;
            });
        }
        catch (Exception ex)
        {
            foreach (var write in batch)
            {
                write.Fail(Wrap(ex, write.Operation));
            }

            return;
        }

        foreach (var write in batch)
        {
            write.Publish(ex => Wrap(ex, write.Operation));
        }
    }

    private Exception Wrap(Exception exception, string operation)
        => exception is SqliteException sqlite ? SqliteErrors.Wrap(Path, Describe(operation), sqlite, BusyTimeout) : exception;

    /// <summary>A write waiting for its batch: what to run, and where its result goes.</summary>
    private abstract class PendingWrite(JournalDurability durability, string operation)
    {
        public JournalDurability Durability { get; } = durability;

        public string Operation { get; } = operation;

        /// <summary>Runs the write; its result or exception is kept for <see cref="Publish"/>; an exception is rethrown.</summary>
        public abstract void Run(SqliteConnection connection);

        /// <summary>After the commit: the write's result, or its own failure.</summary>
        public abstract void Publish(Func<Exception, Exception> wrap);

        public abstract void Fail(Exception exception);
    }

    private sealed class PendingWrite<T>(Func<SqliteConnection, T> write, JournalDurability durability, string operation) : PendingWrite(durability, operation)
    {
        private readonly TaskCompletionSource<T> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? _result;
        private Exception? _error;

        public Task<T> Task => _done.Task;

        public override void Run(SqliteConnection connection)
        {
            try
            {
                _result = write(connection);
            }
            catch (Exception ex)
            {
                _error = ex;
                throw;
            }
        }

        public override void Publish(Func<Exception, Exception> wrap)
        {
            if (_error is null)
            {
                _done.TrySetResult(_result!);
            }
            else
            {
                _done.TrySetException(wrap(_error));
            }
        }

        public override void Fail(Exception exception) => _done.TrySetException(exception);
    }
}
