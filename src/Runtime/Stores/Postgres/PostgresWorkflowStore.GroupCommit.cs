using Durably.Runtime.Journal;

namespace Durably.Runtime.Stores;

/// <summary>
/// Group commit: journal writes that arrive while another is on its way to the server go together in the next batch —
/// one round trip, one transaction, one WAL flush for many runs. Alone, a write is sent at once, as before. Each
/// statement keeps its own fencing and its own result; writes of different durability never share a transaction (a
/// deferred write turns off synchronous commit for its whole transaction), so each kind has its own queue.
/// </summary>
public sealed partial class PostgresWorkflowStore
{
    /// <summary>The most statements one batch takes.</summary>
    private const int MaxWritesPerBatch = 64;

    private readonly WriteQueue _durableWrites = new();
    private readonly WriteQueue _deferredWrites = new();

    /// <summary>Sends one fenced journal statement, alone or with the statements queued beside it.</summary>
    private Task<JournalWriteResult> GroupWriteAsync(string sql, (string Name, object? Value)[] parameters, bool startsWork, bool deferred, CancellationToken cancellationToken)
    {
        var queue = deferred ? _deferredWrites : _durableWrites;
        var write = new QueuedWrite(sql, parameters, startsWork);
        bool send;
        lock (queue.Gate)
        {
            queue.Waiting.Add(write);
            send = !queue.Sending;
            queue.Sending = true;
        }

        if (send)
        {
            _ = SendAsync(queue);
        }

        return write.Done.Task.WaitAsync(cancellationToken);
    }

    private async Task SendAsync(WriteQueue queue)
    {
        while (true)
        {
            QueuedWrite[] batch;
            lock (queue.Gate)
            {
                if (queue.Waiting.Count == 0)
                {
                    queue.Sending = false;
                    return;
                }

                batch = [.. queue.Waiting.Take(MaxWritesPerBatch)];
                queue.Waiting.RemoveRange(0, batch.Length);
            }

            try
            {
                // One implicit transaction for the whole batch: a statement's error rolls back all of them, and each
                // caller's retry policy sends its write again.
                await using var commands = _dataSource.CreateBatch();
                foreach (var write in batch)
                {
                    commands.BatchCommands.Add(BatchCommand(write.Sql, write.Parameters));
                }

                await using var reader = await commands.ExecuteReaderAsync().ConfigureAwait(false);
                var results = new JournalWriteResult[batch.Length];
                for (var i = 0; i < batch.Length; i++)
                {
                    if (i > 0)
                    {
                        await reader.NextResultAsync().ConfigureAwait(false);
                    }

                    await reader.ReadAsync().ConfigureAwait(false);
                    results[i] = ReadWriteResult(reader, batch[i].StartsWork);
                }

                // Published only once the whole batch has committed (the reader is drained and closed first).
                await reader.DisposeAsync().ConfigureAwait(false);
                for (var i = 0; i < batch.Length; i++)
                {
                    batch[i].Done.TrySetResult(results[i]);
                }
            }
            catch (Exception ex)
            {
                foreach (var write in batch)
                {
                    write.Done.TrySetException(ex);
                }
            }
        }
    }

    private sealed class WriteQueue
    {
        public Lock Gate { get; } = new();

        public List<QueuedWrite> Waiting { get; } = [];

        public bool Sending { get; set; }
    }

    private sealed record QueuedWrite(string Sql, (string Name, object? Value)[] Parameters, bool StartsWork)
    {
        public TaskCompletionSource<JournalWriteResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
