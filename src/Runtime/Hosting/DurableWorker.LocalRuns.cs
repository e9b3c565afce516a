using Durably.Runtime.Engine;
using Durably.Runtime.Journal;

namespace Durably.Runtime.Hosting;

// Runs started in this process, created already held by this worker: a slot reserved, then the execution.
public sealed partial class DurableWorker
{
    /// <inheritdoc/>
    string ILocalRunner.WorkerName => _engine.WorkerName;

    /// <inheritdoc/>
    bool ILocalRunner.TryReserve(string workflowId)
    {
        lock (_inFlight)
        {
            if (!_takesLocalStarts || _inFlight.Count >= _engine.Options.MaxConcurrentRuns || _inFlight.ContainsKey(workflowId))
            {
                return false;
            }

            var slot = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _reserved[workflowId] = slot;
            _inFlight[workflowId] = slot.Task;
            return true;
        }
    }

    /// <inheritdoc/>
    void ILocalRunner.Run(RunLease lease, RunSnapshot snapshot)
    {
        TaskCompletionSource? slot;
        lock (_inFlight)
        {
            _reserved.Remove(lease.WorkflowId, out slot);
            Start(lease, snapshot);
        }

        slot?.TrySetResult();
    }

    /// <inheritdoc/>
    bool ILocalRunner.IsRunning(string workflowId)
    {
        lock (_inFlight)
        {
            return _inFlight.ContainsKey(workflowId);
        }
    }

    /// <inheritdoc/>
    void ILocalRunner.Unreserve(string workflowId)
    {
        TaskCompletionSource? slot;
        lock (_inFlight)
        {
            if (_reserved.Remove(workflowId, out slot))
            {
                _inFlight.Remove(workflowId);
            }
        }

        slot?.TrySetResult();
        _engine.Context.NotifyFinished(workflowId);
        _engine.Context.RunsAvailable.Set();
    }
}
