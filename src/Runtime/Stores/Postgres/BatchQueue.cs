namespace Durably.Runtime.Stores;

/// <summary>
/// Calls that arrive while a batch of them is on its way to the server go together in the next batch: one round trip
/// and one transaction for many, on one connection. Alone, a call is sent at once and answered on the sender's thread,
/// so a call nobody else makes at the same moment costs what it cost before.
/// </summary>
/// <remarks>
/// One batch is in flight at a time: however many callers there are, a queue holds at most one of the pool's connections
/// — each connection is a server process, and a few dozen of them busy at once cost PostgreSQL more CPU than the
/// statements they run. A batch that fails on one item's own error (not the connection's) is sent again one item at a
/// time, so only that item's caller sees the error; a failure of the connection or the server goes to every caller in
/// the batch, whose retry policy sends its call again.
/// </remarks>
/// <typeparam name="TItem">What a caller asks for.</typeparam>
/// <typeparam name="TResult">What each item's caller gets back.</typeparam>
internal sealed class BatchQueue<TItem, TResult>(Func<TItem[], Task<TResult[]>> send, int maxItemsPerBatch)
{
    private readonly Lock _gate = new();
    private readonly List<Waiting> _waiting = [];
    private bool _sending;

    /// <summary>Queues <paramref name="item"/> and returns its result once the batch that carried it has committed.</summary>
    /// <remarks>
    /// A call cancelled while it still waits for its batch is not sent; once sent, it is carried through, and only the
    /// wait for its answer is cancelled.
    /// </remarks>
    public Task<TResult> EnqueueAsync(TItem item, CancellationToken cancellationToken)
    {
        var waiting = new Waiting(item, cancellationToken);
        bool start;
        lock (_gate)
        {
            _waiting.Add(waiting);
            start = !_sending;
            _sending = true;
        }

        if (start)
        {
            _ = SendAllAsync();
        }

        return waiting.Done.Task.WaitAsync(cancellationToken);
    }

    private async Task SendAllAsync()
    {
        while (true)
        {
            Waiting[] batch, cancelled;
            lock (_gate)
            {
                // Calls cancelled while they waited are dropped here, never sent.
                cancelled = [.. _waiting.Where(w => w.Cancellation.IsCancellationRequested)];
                _waiting.RemoveAll(w => w.Cancellation.IsCancellationRequested);
                batch = [.. _waiting.Take(maxItemsPerBatch)];
                _waiting.RemoveRange(0, batch.Length);
                _sending = batch.Length > 0;
            }

            foreach (var call in cancelled)
            {
                call.Done.TrySetCanceled(call.Cancellation);
            }

            if (batch.Length == 0)
            {
                return;
            }

            var results = await AnswersAsync(batch).ConfigureAwait(false);
            bool last;
            lock (_gate)
            {
                // Nothing more to send: this sender is done, and a call arriving now starts the next one.
                last = _waiting.Count == 0;
                _sending = !last;
            }

            if (last && batch.Length == 1)
            {
                // A call alone, with nothing behind it: its caller goes on here, without a hand-off.
                Answer(batch[0], results[0]);
            }
            else
            {
                // On the thread pool: a caller must not run on the sender's thread while other calls wait for it.
                foreach (var (waiting, result) in batch.Zip(results))
                {
                    ThreadPool.UnsafeQueueUserWorkItem(static state => Answer(state.waiting, state.result), (waiting, result), preferLocal: false);
                }
            }

            if (last)
            {
                return;
            }
        }
    }

    /// <summary>Each item's result, or the exception its caller gets.</summary>
    private async Task<(TResult? Value, Exception? Error)[]> AnswersAsync(Waiting[] batch)
    {
        try
        {
            var values = await send([.. batch.Select(w => w.Item)]).ConfigureAwait(false);
            return [.. values.Select(v => ((TResult?)v, (Exception?)null))];
        }
        catch (Exception ex) when (batch.Length > 1 && !PostgresRetry.IsTransient(ex))
        {
            // One item's own error rolled the whole batch back: each is sent alone, so only the one at fault fails.
            var answers = new (TResult?, Exception?)[batch.Length];
            for (var i = 0; i < batch.Length; i++)
            {
                try
                {
                    answers[i] = ((await send([batch[i].Item]).ConfigureAwait(false))[0], null);
                }
                catch (Exception alone)
                {
                    answers[i] = (default, alone);
                }
            }

            return answers;
        }
        catch (Exception ex)
        {
            return [.. batch.Select(_ => (default(TResult), (Exception?)ex))];
        }
    }

    private static void Answer(Waiting waiting, (TResult? Value, Exception? Error) answer)
    {
        if (answer.Error is { } error)
        {
            waiting.Done.TrySetException(error);
        }
        else
        {
            waiting.Done.TrySetResult(answer.Value!);
        }
    }

    private sealed class Waiting(TItem item, CancellationToken cancellation)
    {
        public TItem Item { get; } = item;

        public CancellationToken Cancellation { get; } = cancellation;

        public TaskCompletionSource<TResult> Done { get; } = new();
    }
}
