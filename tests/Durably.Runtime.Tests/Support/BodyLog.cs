using System.Collections.Concurrent;

namespace Durably.Runtime.Tests.Support;

/// <summary>Every step body execution, with the context it saw: what the guarantee tests count.</summary>
internal sealed class BodyLog
{
    private readonly ConcurrentQueue<BodyRun> _runs = new();

    public IReadOnlyList<BodyRun> Runs => [.. _runs];

    public void Record()
    {
        var step = StepContext.Current ?? throw new InvalidOperationException("A step body ran without a StepContext: the call was not intercepted.");
        _runs.Enqueue(new BodyRun(step.StepId, step.Sequence, step.Attempt, step.IdempotencyKey));
    }

    public int Count(string stepId) => _runs.Count(r => r.StepId == stepId);
}

internal sealed record BodyRun(string StepId, long Sequence, int Attempt, string IdempotencyKey);

/// <summary>Holds a step body until the test opens it; tells the test when the body arrived.</summary>
internal sealed class Gate
{
    private readonly TaskCompletionSource _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _cancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _passed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static Gate Open()
    {
        var gate = new Gate();
        gate._open.SetResult();
        return gate;
    }

    public Task Arrived => _arrived.Task;

    /// <summary>Completes when a body waiting at the gate saw its cancellation token fire.</summary>
    public Task Cancelled => _cancelled.Task;

    /// <summary>Completes when a body went through the open gate.</summary>
    public Task Passed => _passed.Task;

    /// <summary>Lets the body waiting at the gate (and every later one) go on.</summary>
    public void Release() => _open.TrySetResult();

    public async Task PassAsync(CancellationToken cancellationToken)
    {
        _arrived.TrySetResult();
        try
        {
            await _open.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _cancelled.TrySetResult();
            throw;
        }

        _passed.TrySetResult();
    }
}
