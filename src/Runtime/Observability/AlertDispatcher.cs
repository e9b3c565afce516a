using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Durably.Runtime.Observability;

/// <summary>
/// Hands alerts to the sinks off the run's path: <see cref="Publish"/> only queues; one background loop calls each sink
/// in turn with a time limit, and logs (never throws) what a sink fails to do. Alerts queued at shutdown are delivered
/// while <see cref="FlushAsync"/> waits.
/// </summary>
internal sealed partial class AlertDispatcher
{
    /// <summary>Alerts kept waiting for slow sinks; beyond this the oldest are dropped, with a log line each.</summary>
    internal const int Capacity = 10_000;

    private readonly IReadOnlyList<IDurableAlertSink> _sinks;
    private readonly TimeSpan _timeout;
    private readonly ILogger _logger;
    private readonly Channel<DurableAlert> _queue;
    private readonly object _gate = new();
    private Task _delivering = Task.CompletedTask;
    private bool _running;
    private int _queued;

    public AlertDispatcher(IEnumerable<IDurableAlertSink> sinks, TimeSpan timeout, ILogger logger)
    {
        _sinks = [.. sinks];
        _timeout = timeout;
        _logger = logger;
        _queue = Channel.CreateBounded<DurableAlert>(
            new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            dropped =>
            {
                Interlocked.Decrement(ref _queued);
                LogAlertDropped(_logger, dropped.Kind, dropped.WorkflowId, Capacity);
            });
    }

    /// <summary>Queues <paramref name="alert"/> for every sink; returns at once.</summary>
    public void Publish(DurableAlert alert)
    {
        if (_sinks.Count == 0)
        {
            return;
        }

        Interlocked.Increment(ref _queued);
        _queue.Writer.TryWrite(alert);
        lock (_gate)
        {
            if (!_running)
            {
                _running = true;
                _delivering = Task.Run(DeliverAsync);
            }
        }
    }

    /// <summary>Waits, up to <paramref name="timeout"/>, until every queued alert has been handed to every sink.</summary>
    public async Task FlushAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Volatile.Read(ref _queued) > 0 && DateTime.UtcNow < deadline)
        {
            Task delivering;
            lock (_gate)
            {
                delivering = _delivering;
            }

            await Task.WhenAny(delivering, Task.Delay(TimeSpan.FromMilliseconds(20))).ConfigureAwait(false);
        }
    }

    private async Task DeliverAsync()
    {
        while (true)
        {
            while (_queue.Reader.TryRead(out var alert))
            {
                foreach (var sink in _sinks)
                {
                    using var limit = new CancellationTokenSource(_timeout);
                    try
                    {
                        await sink.SendAsync(alert, limit.Token).WaitAsync(_timeout).ConfigureAwait(false);
                    }
                    catch (Exception ex)
                    {
                        LogSinkFailed(_logger, sink.GetType().Name, alert.Kind, alert.WorkflowId, ex);
                    }
                }

                Interlocked.Decrement(ref _queued);
            }

            // Stop when the queue is empty; a Publish racing with the stop sees the loop finished and starts another.
            lock (_gate)
            {
                if (!_queue.Reader.TryPeek(out _))
                {
                    _running = false;
                    return;
                }
            }
        }
    }

    [LoggerMessage(20, LogLevel.Error, "Durably alert sink {Sink} could not deliver the {Kind} alert of run {WorkflowId}; the run is not affected")]
    private static partial void LogSinkFailed(ILogger logger, string sink, DurableAlertKind kind, string workflowId, Exception exception);

    [LoggerMessage(21, LogLevel.Error, "Durably dropped the {Kind} alert of run {WorkflowId}: more than {Capacity} alerts were waiting for slow sinks")]
    private static partial void LogAlertDropped(ILogger logger, DurableAlertKind kind, string workflowId, int capacity);
}
