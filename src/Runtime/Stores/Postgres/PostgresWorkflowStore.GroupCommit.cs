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
        if (ReferenceEquals(sql, _sql.CompleteEntry) && TakeUnsentAttempt(parameters) is { } folded)
        {
            // The step's attempting row, sent as its body started, is still waiting for its turn: its outcome is
            // written instead (it carries everything the attempting row has), and answers for both. Sent apart, the two
            // would also wait for each other's transaction on the journal row.
            _ = write.Done.Task.ContinueWith(t => Complete(folded.Done, t), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

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

    /// <summary>The pipelined attempting write of the same run, epoch and sequence, taken from the deferred queue if not sent yet.</summary>
    private QueuedWrite? TakeUnsentAttempt((string Name, object? Value)[] completion)
    {
        lock (_deferredWrites.Gate)
        {
            var index = _deferredWrites.Waiting.FindIndex(w => ReferenceEquals(w.Sql, _sql.RecordAttemptPipelined)
                && new[] { "id", "epoch", "sequence" }.All(name => Equals(Value(w.Parameters, name), Value(completion, name))));
            if (index < 0)
            {
                return null;
            }

            var attempt = _deferredWrites.Waiting[index];
            _deferredWrites.Waiting.RemoveAt(index);
            return attempt;
        }

        static object? Value((string Name, object? Value)[] parameters, string name) => Array.Find(parameters, p => p.Name == name).Value;
    }

    private static void Complete(TaskCompletionSource<JournalWriteResult> done, Task<JournalWriteResult> from)
    {
        if (from.IsCompletedSuccessfully)
        {
            done.TrySetResult(from.Result);
        }
        else
        {
            done.TrySetException(from.Exception?.InnerExceptions ?? [new OperationCanceledException()]);
        }
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
                var results = await SendBatchAsync(batch).ConfigureAwait(false);
                for (var i = 0; i < batch.Length; i++)
                {
                    batch[i].Done.TrySetResult(results[i]);
                }
            }
            catch (Exception ex) when (batch.Length > 1 && !PostgresRetry.IsTransient(ex))
            {
                // One statement's own error rolled the whole batch back: send each write alone, so that the others
                // are written and only the write at fault gets its error.
                foreach (var write in batch)
                {
                    try
                    {
                        write.Done.TrySetResult((await SendBatchAsync([write]).ConfigureAwait(false))[0]);
                    }
                    catch (Exception alone)
                    {
                        write.Done.TrySetException(alone);
                    }
                }
            }
            catch (Exception ex)
            {
                // The connection or the server failed: each caller's retry policy sends its write again.
                foreach (var write in batch)
                {
                    write.Done.TrySetException(ex);
                }
            }
        }
    }

    /// <summary>
    /// Sends the writes in one round trip and one implicit transaction (a statement's error rolls back all of them), and
    /// returns each one's result once the whole batch has committed.
    /// </summary>
    private async Task<JournalWriteResult[]> SendBatchAsync(QueuedWrite[] batch)
    {
        await using var commands = _dataSource.CreateBatch();
        foreach (var write in batch)
        {
            commands.BatchCommands.Add(BatchCommand(write.Sql, write.Parameters));
        }

        var results = new JournalWriteResult[batch.Length];
        await using (var reader = await commands.ExecuteReaderAsync().ConfigureAwait(false))
        {
            for (var i = 0; i < batch.Length; i++)
            {
                if (i > 0)
                {
                    await reader.NextResultAsync().ConfigureAwait(false);
                }

                await reader.ReadAsync().ConfigureAwait(false);
                results[i] = ReadWriteResult(reader, batch[i].StartsWork);
            }
        }

        return results;
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
