using System.Diagnostics;
using Durably.Runtime.Engine;
using Durably.Runtime.Journal;
using Durably.Runtime.Replay.Operations;

namespace Durably.Runtime.Replay;

/// <summary>What the run's operations may ask of it (<see cref="IOperationHost"/>): post an event, stop, fail, record an attempt.</summary>
internal sealed partial class RunExecution<TWorkflow, TInput, TOutput>
{
    string IOperationHost.WorkflowName => _definition.Name;

    string IOperationHost.RunName => RunName;

    EngineContext IOperationHost.Engine => _engine;

    RunLease IOperationHost.Lease => _lease;

    ActivityContext IOperationHost.Activity => _activity;

    ProgressWriter IOperationHost.Progress => _progress;

    CancellationToken IOperationHost.Stopping => _stopping.Token;

    CancellationToken IOperationHost.Settling => _settling.Token;

    CancellationToken IOperationHost.BodiesCancelled => _cancelBodies.Token;

    bool IOperationHost.IsRollingBack => _rollbackOutcome is not null;

    void IOperationHost.Post(ExecutionEvent executionEvent) => Post(executionEvent);

    void IOperationHost.RequestStop() => RequestStop();

    void IOperationHost.SetFatal(Exception exception, WorkflowStatus status) => SetFatal(exception, status);

    // Set once this execution waited for a live attempting row (see IOperationHost.MayPipelineAttempts).
    private bool _liveAttemptWritten;

    bool IOperationHost.MayPipelineAttempts => Volatile.Read(ref _liveAttemptWritten);

    private readonly List<Task> _attemptsInFlight = [];

    void IOperationHost.TrackAttempt(Task<JournalWriteResult> attempt)
    {
        lock (_attemptsInFlight)
        {
            _attemptsInFlight.RemoveAll(t => t.IsCompleted);
            _attemptsInFlight.Add(attempt);
        }
    }

    /// <summary>
    /// As an execution stops: waits until its operations in flight have seen the stop — a step whose body was called sends
    /// its attempting row as it stops, and a body still in its first synchronous part may not have sent it yet — and then
    /// for every attempting row sent, so that the lease is released only after them (a row sent later would be fenced out).
    /// </summary>
    private async Task OperationsStoppedAsync()
    {
        await Task.WhenAll(_pending.Values.Select(o => o.Running)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await AttemptsSentAsync().ConfigureAwait(false);
    }

    /// <summary>Waits for the attempting rows sent without being waited for (their outcome does not matter here).</summary>
    private async Task AttemptsSentAsync()
    {
        Task[] inFlight;
        lock (_attemptsInFlight)
        {
            inFlight = [.. _attemptsInFlight];
            _attemptsInFlight.Clear();
        }

        await Task.WhenAll(inFlight).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    async Task<JournalEntry?> IOperationHost.RecordAttemptAsync(Operation operation, JournalEntry draft, CancellationToken token)
        => ((IOperationHost)this).AcceptAttempt(operation, await _engine.Store.RecordAttemptAsync(_lease, draft, operation.AttemptDurability, token).ConfigureAwait(false));

    JournalEntry? IOperationHost.AcceptAttempt(Operation operation, JournalWriteResult attempt)
    {
        if (attempt.Fenced)
        {
            Post(ExecutionEvent.LeaseLost);
            return null;
        }

        if (attempt.CancelRequested)
        {
            RequestStop();
            return null;
        }

        if (attempt.Entry!.IsTerminal)
        {
            Post(new OperationFinished(operation, attempt.Entry));
            return null;
        }

        Volatile.Write(ref _liveAttemptWritten, true);
        return attempt.Entry;
    }
}
