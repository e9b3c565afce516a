using System.Text.Json;
using Durably.Runtime.Journal;
using Microsoft.Extensions.Logging;

namespace Durably.Runtime.Replay;

/// <summary>
/// A run's progress writer (<see cref="StepContext.ReportProgress"/>): keeps the latest report of each step in progress
/// and writes them all — the first report at once, then at most once per interval, the latest winning, the last one
/// always. Reports never wait for the store: the write runs on the thread pool. Progress is best effort: a write that
/// fails is logged, and the next report writes again.
/// </summary>
internal sealed class ProgressWriter : IStepProgressSink, IDisposable
{
    private readonly IWorkflowStoreRunStatus? _store;
    private readonly RunLease _lease;
    private readonly TimeProvider _time;
    private readonly TimeSpan _interval;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private readonly SortedDictionary<long, ProgressEntry> _steps = [];
    private bool _dirty;
    private bool _writing;
    private bool _stopped;
    private long? _lastWrite;
    private ITimer? _timer;

    private readonly Action _written;

    public ProgressWriter(IWorkflowStoreRunStatus? store, RunLease lease, TimeProvider time, TimeSpan interval, ILogger logger, Action written)
    {
        _written = written;
        _store = store;
        _lease = lease;
        _time = time;
        _interval = interval;
        _logger = logger;
    }

    public void Report(long sequence, string stepId, double fraction, string? message)
    {
        if (_store is null)
        {
            return;
        }

        lock (_gate)
        {
            if (_stopped)
            {
                return;
            }

            _steps[sequence] = new ProgressEntry(sequence, stepId, fraction, message, _time.GetUtcNow());
            _dirty = true;
            ScheduleLocked();
        }
    }

    /// <summary>The step at <paramref name="sequence"/> ended its attempt: its progress is not written again.</summary>
    public void Finished(long sequence)
    {
        lock (_gate)
        {
            _steps.Remove(sequence);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _stopped = true;
            _timer?.Dispose();
            _timer = null;
        }

        // Not disposed: a write still on its way may yet look at its token; the source has no timer to release.
        _stopping.Cancel();
    }

    private void ScheduleLocked()
    {
        if (_stopped || _writing || _timer is not null || !_dirty)
        {
            return;
        }

        var wait = _lastWrite is { } last ? _interval - _time.GetElapsedTime(last) : TimeSpan.Zero;
        if (wait > TimeSpan.Zero)
        {
            _timer = _time.CreateTimer(static state => ((ProgressWriter)state!).OnTimer(), this, wait, Timeout.InfiniteTimeSpan);
            return;
        }

        _writing = true;
        _dirty = false;
        _lastWrite = _time.GetTimestamp();
        var json = JsonSerializer.Serialize(_steps.Values.ToList(), ProgressEntry.JsonOptions);
        var token = _stopping.Token;
        _ = Task.Run(() => WriteAsync(json, token), CancellationToken.None);
    }

    private void OnTimer()
    {
        lock (_gate)
        {
            _timer?.Dispose();
            _timer = null;
            ScheduleLocked();
        }
    }

    private async Task WriteAsync(string json, CancellationToken token)
    {
        var fenced = false;
        try
        {
            fenced = !await _store!.WriteProgressAsync(_lease, json, token).ConfigureAwait(false);
            _written();
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // The execution ended: its steps' progress no longer matters.
        }
        catch (Exception ex)
        {
            _logger.LogWarning(ex, "Durably could not write the progress of run '{WorkflowId}'; the next report writes it again.", _lease.WorkflowId);
        }
        finally
        {
            lock (_gate)
            {
                _writing = false;
                // A run taken over by another worker: this execution writes no more progress.
                _stopped |= fenced;
                ScheduleLocked();
            }
        }
    }
}

/// <summary>One step's latest progress report, as the engine writes it in <see cref="RunStatusRecord.ProgressJson"/>.</summary>
internal sealed record ProgressEntry(long Sequence, string Step, double Fraction, string? Message, DateTimeOffset At)
{
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    /// <summary>Reads what <see cref="ProgressWriter"/> wrote; an unreadable value (edited by hand) reads as no progress.</summary>
    public static IReadOnlyList<ProgressEntry> Parse(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return [];
        }

        try
        {
            return JsonSerializer.Deserialize<List<ProgressEntry>>(json, JsonOptions) ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }
}
