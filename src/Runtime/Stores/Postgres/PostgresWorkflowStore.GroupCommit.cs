using Durably.Runtime.Journal;
using Npgsql;

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

    private readonly WriteQueue _durableWrites;
    private readonly WriteQueue _deferredWrites;

    // Pipelined attempting writes sent in a batch that has not answered yet (guarded by the deferred queue's gate).
    private readonly List<QueuedWrite> _attemptsSent = [];

    /// <summary>Sends one fenced journal statement, alone or with the statements queued beside it.</summary>
    /// <remarks>
    /// With <paramref name="status"/>, the run's staged status is written in the same transaction (after the batch's
    /// journal statements), and <paramref name="after"/> after that. A journal row's write also gives its
    /// <paramref name="row"/>: two of them or more in one batch go as one statement (<see cref="PostgresStatements.WriteEntries"/>).
    /// </remarks>
    private Task<JournalWriteResult> GroupWriteAsync(string sql, (string Name, object? Value)[] parameters, bool startsWork, bool deferred,
        (string Name, object? Value)[]? status, CancellationToken cancellationToken, (RunLease Lease, JournalEntry Entry)? row = null,
        (string Sql, (string Name, object? Value)[] Parameters)[]? after = null)
    {
        var queue = deferred ? _deferredWrites : _durableWrites;
        var write = new QueuedWrite(sql, parameters, startsWork, status, row, after);
        if (ReferenceEquals(sql, _sql.CompleteEntry) && FindPipelinedAttempt(parameters) is var (attempt, sent) && attempt is not null)
        {
            if (sent)
            {
                // Its attempting row is on its way in another batch: the outcome waits for that batch's transaction on
                // the journal row. Alone, it may as well wait at the server (one round trip saved); beside other writes,
                // it would hold them all up, so then it is sent once the attempting row has answered.
                if (IsBusy(_durableWrites))
                {
                    return AfterAsync(attempt.Done.Task, () => GroupWriteAsync(sql, parameters, startsWork, deferred, status, cancellationToken, row));
                }
            }
            else
            {
                // The step's attempting row, sent as its body started, is still waiting for its turn: its outcome is
                // written instead (it carries everything the attempting row has), and answers for both.
                _ = write.Done.Task.ContinueWith(t => Complete(attempt.Done, t), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
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

    /// <summary>
    /// The pipelined attempting write of the same run, epoch and sequence as <paramref name="completion"/>: taken out of
    /// the deferred queue when not sent yet, or found among the sent ones still waiting for their answer.
    /// </summary>
    private (QueuedWrite? Attempt, bool Sent) FindPipelinedAttempt((string Name, object? Value)[] completion)
    {
        lock (_deferredWrites.Gate)
        {
            var index = _deferredWrites.Waiting.FindIndex(Same);
            if (index >= 0)
            {
                var attempt = _deferredWrites.Waiting[index];
                _deferredWrites.Waiting.RemoveAt(index);
                return (attempt, false);
            }

            // One that has answered is done with, even if its batch has not been cleared from the list yet.
            return (_attemptsSent.Find(w => Same(w) && !w.Done.Task.IsCompleted), true);
        }

        bool Same(QueuedWrite w) => ReferenceEquals(w.Sql, _sql.RecordAttemptPipelined)
            && Equals(Value(w.Parameters, "id"), Value(completion, "id")) && Equals(Value(w.Parameters, "epoch"), Value(completion, "epoch"))
            && Equals(Value(w.Parameters, "sequence"), Value(completion, "sequence"));

        static object? Value((string Name, object? Value)[] parameters, string name) => Array.Find(parameters, p => p.Name == name).Value;
    }

    private static bool IsBusy(WriteQueue queue)
    {
        lock (queue.Gate)
        {
            return queue.Sending || queue.Waiting.Count > 0;
        }
    }

    private static async Task<JournalWriteResult> AfterAsync(Task before, Func<Task<JournalWriteResult>> then)
    {
        await before.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return await then().ConfigureAwait(false);
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
                if (ReferenceEquals(queue, _deferredWrites))
                {
                    _attemptsSent.AddRange(batch.Where(w => ReferenceEquals(w.Sql, _sql.RecordAttemptPipelined)));
                }
            }

            JournalWriteResult[]? results = null;
            Exception? failed = null;
            try
            {
                results = await SendBatchAsync(queue, batch).ConfigureAwait(false);
            }
            catch (Exception ex) when (batch.Length > 1 && !PostgresRetry.IsTransient(ex))
            {
                // One statement's own error rolled the whole batch back: send each write alone, so that the others
                // are written and only the write at fault gets its error.
                foreach (var write in batch)
                {
                    try
                    {
                        Release(write, (await SendBatchAsync(queue, [write]).ConfigureAwait(false))[0], null);
                    }
                    catch (Exception alone)
                    {
                        Release(write, null, alone);
                    }
                }
            }
            catch (Exception ex)
            {
                // The connection or the server failed: each caller's retry policy sends its write again.
                failed = ex;
            }

            bool last;
            lock (queue.Gate)
            {
                if (ReferenceEquals(queue, _deferredWrites))
                {
                    _attemptsSent.RemoveAll(batch.Contains);
                }

                // Nothing more to send: this sender is done, and a write arriving now starts the next one.
                last = queue.Waiting.Count == 0;
                if (last)
                {
                    queue.Sending = false;
                }
            }

            if (results is not null && last && batch.Length == 1)
            {
                // A write alone, with nothing behind it: its caller goes on here, on this thread, without a hand-off.
                batch[0].Done.TrySetResult(results[0]);
                return;
            }

            for (var i = 0; i < batch.Length; i++)
            {
                if (results is not null || failed is not null)
                {
                    Release(batch[i], results?[i], failed);
                }
            }

            if (last)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Completes a write on the thread pool: its caller must not run on the sender's thread while other writes wait for
    /// it, nor several callers one after another on it.
    /// </summary>
    private static void Release(QueuedWrite write, JournalWriteResult? result, Exception? error)
        => ThreadPool.UnsafeQueueUserWorkItem(static state =>
        {
            var (write, result, error) = state;
            if (error is null)
            {
                write.Done.TrySetResult(result!);
            }
            else
            {
                write.Done.TrySetException(error);
            }
        }, (write, result, error), preferLocal: false);

    /// <summary>
    /// Sends the writes in one round trip and one implicit transaction (a statement's error rolls back all of them), and
    /// returns each one's result once the whole batch has committed. Two journal rows or more go as one statement; a
    /// start's barrier, or a row alone, as its own.
    /// </summary>
    private Task<JournalWriteResult[]> SendBatchAsync(WriteQueue queue, QueuedWrite[] batch)
        => SendOnAsync(queue.Connection, commands => SendBatchAsync(commands, batch));

    private async Task<JournalWriteResult[]> SendBatchAsync(NpgsqlBatch commands, QueuedWrite[] batch)
    {
        var rows = RowsOfOneStatement(batch);
        if (rows.Length > 0)
        {
            commands.BatchCommands.Add(RowsCommand([.. rows.Select(i => batch[i])]));
        }

        var alone = Enumerable.Range(0, batch.Length).Except(rows).ToArray();
        foreach (var i in alone)
        {
            commands.BatchCommands.Add(BatchCommand(batch[i].Sql, batch[i].Parameters));
        }

        // After every journal statement, so each write's result comes first.
        foreach (var write in batch)
        {
            if (write.Status is { } status)
            {
                commands.BatchCommands.Add(BatchCommand(_statusSql.Write, status));
            }
        }

        // Last, what must follow the writes (a run's end's announcement and its parent's wake); their results are not read.
        foreach (var (sql, parameters) in batch.SelectMany(w => w.After ?? []))
        {
            commands.BatchCommands.Add(BatchCommand(sql, parameters));
        }

        CountWritten(runs: false, batch.Length);
        var results = new JournalWriteResult[batch.Length];
        await using (var reader = await commands.ExecuteReaderAsync().ConfigureAwait(false))
        {
            // The rows statement's result rows are in its rows' order; then one result per statement sent alone.
            foreach (var i in rows)
            {
                await reader.ReadAsync().ConfigureAwait(false);
                results[i] = ReadWriteResult(reader, batch[i].StartsWork);
            }

            for (var k = 0; k < alone.Length; k++)
            {
                if (k > 0 || rows.Length > 0)
                {
                    await reader.NextResultAsync().ConfigureAwait(false);
                }

                await reader.ReadAsync().ConfigureAwait(false);
                results[alone[k]] = ReadWriteResult(reader, batch[alone[k]].StartsWork);
            }
        }

        return results;
    }

    /// <summary>
    /// The indexes of the batch's journal rows that go as one statement: all of them when there are two or more, each
    /// naming a different row; else none.
    /// </summary>
    private static int[] RowsOfOneStatement(QueuedWrite[] batch)
    {
        var rows = Enumerable.Range(0, batch.Length).Where(i => batch[i].Row is not null).ToArray();
        var distinct = rows.Select(i => (batch[i].Row!.Value.Lease.WorkflowId, batch[i].Row!.Value.Entry.Sequence)).Distinct().Count();
        return rows.Length >= 2 && distinct == rows.Length ? rows : [];
    }

    /// <summary>The journal rows as one statement: each parameter an array with an element per row, as the row's own statement would write it.</summary>
    private NpgsqlBatchCommand RowsCommand(QueuedWrite[] writes)
    {
        var deferred = ReferenceEquals(writes[0].Sql, _sql.RecordAttemptDeferred) || ReferenceEquals(writes[0].Sql, _sql.RecordAttemptPipelined);
        var leases = writes.Select(w => w.Row!.Value.Lease).ToArray();
        var entries = writes.Select(w => w.Row!.Value.Entry).ToArray();
        // An attempting row's statement writes its own values whatever the entry says (see PostgresStatements' attempt values).
        var attempt = writes.Select(w => !ReferenceEquals(w.Sql, _sql.CompleteEntry)).ToArray();
        return BatchCommand(_sql.WriteEntries(deferred),
            ("ids", leases.Select(l => l.WorkflowId).ToArray()), ("owners", leases.Select(l => l.Owner).ToArray()),
            ("epochs", leases.Select(l => l.Epoch).ToArray()), ("sequences", entries.Select(e => e.Sequence).ToArray()),
            ("operations", entries.Select(e => e.OperationId).ToArray()), ("kinds", entries.Select(e => (short)e.Kind).ToArray()),
            ("states", entries.Select((e, i) => attempt[i] ? (short)JournalEntryState.Attempting : (short)e.State).ToArray()),
            ("inputs", entries.Select(e => e.InputJson).ToArray()),
            ("outputs", entries.Select((e, i) => attempt[i] ? null : e.OutputJson).ToArray()),
            ("error_types", entries.Select((e, i) => attempt[i] ? null : e.Error?.Type).ToArray()),
            ("error_messages", entries.Select((e, i) => attempt[i] ? null : e.Error?.Message).ToArray()),
            ("attempts", entries.Select((e, i) => attempt[i] ? 1 : e.Attempts).ToArray()),
            ("completion_indexes", entries.Select((e, i) => attempt[i] ? null : e.CompletionIndex).ToArray()),
            ("started", entries.Select(e => Utc(e.StartedAt)).ToArray()),
            ("completed", entries.Select((e, i) => attempt[i] || e.CompletedAt is not { } at ? (DateTimeOffset?)null : Utc(at)).ToArray()),
            ("starts_work", writes.Select(w => w.StartsWork).ToArray()));
    }

    /// <summary>Sends a batch on <paramref name="held"/>, or, without one, on a connection borrowed from the pool for it.</summary>
    private async Task<T> SendOnAsync<T>(HeldConnection? held, Func<NpgsqlBatch, Task<T>> send)
    {
        if (held is not null)
        {
            return await held.SendAsync(send).ConfigureAwait(false);
        }

        await using var batch = _dataSource.CreateBatch();
        return await send(batch).ConfigureAwait(false);
    }

    private sealed class WriteQueue(HeldConnection? connection)
    {
        /// <summary>The connection its batches go on (null: each borrows one from the pool).</summary>
        public HeldConnection? Connection { get; } = connection;

        public Lock Gate { get; } = new();

        public List<QueuedWrite> Waiting { get; } = [];

        public bool Sending { get; set; }
    }

    private sealed record QueuedWrite(string Sql, (string Name, object? Value)[] Parameters, bool StartsWork, (string Name, object? Value)[]? Status = null,
        (RunLease Lease, JournalEntry Entry)? Row = null, (string Sql, (string Name, object? Value)[] Parameters)[]? After = null)
    {
        /// <remarks>Completed on the thread pool (see <see cref="Release"/>), or inline for a write sent alone.</remarks>
        public TaskCompletionSource<JournalWriteResult> Done { get; } = new();
    }
}
