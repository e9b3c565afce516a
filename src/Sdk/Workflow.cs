using Durably.Infrastructure;

namespace Durably;

/// <summary>
/// Deterministic services for a workflow's run method. Unlike <see cref="DateTime.UtcNow"/> or
/// <see cref="Guid.NewGuid"/>, these return the same values when the run is replayed after a crash.
/// </summary>
public static class Workflow
{
    /// <summary>The id of the run whose run method is executing.</summary>
    /// <exception cref="InvalidOperationException">Read outside a run method.</exception>
    public static string WorkflowId => Require(nameof(WorkflowId)).WorkflowId;

    /// <summary>The recorded time of the latest outcome delivered to the run method; identical on replay.</summary>
    /// <exception cref="InvalidOperationException">Read outside a run method or off its scheduler.</exception>
    public static DateTimeOffset Now => Require("Workflow.Now").GetNow("Workflow.Now");

    /// <summary>A GUID derived from the workflow id and a counter: unique per call, identical on replay, nothing journaled.</summary>
    /// <returns>The GUID.</returns>
    /// <exception cref="InvalidOperationException">Called outside a run method or off its scheduler.</exception>
    public static Guid NewGuid() => Require("Workflow.NewGuid()").NewGuid("Workflow.NewGuid()");

    /// <summary>A random source seeded from the workflow id: the same sequence on every replay.</summary>
    /// <exception cref="InvalidOperationException">Read outside a run method or off its scheduler.</exception>
    public static Random Random => Require("Workflow.Random").GetRandom("Workflow.Random");

    /// <summary>
    /// Waits durably for <paramref name="delay"/>: the wake time is journaled, so the wait survives restarts and crashes
    /// and ends at the same moment on whichever worker runs the run then. Use it instead of <see cref="Task.Delay(TimeSpan)"/>.
    /// </summary>
    /// <param name="delay">How long to wait; zero fires at once (still a durable operation).</param>
    /// <returns>A task that completes when the time has come.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delay"/> is negative or too large for a date.</exception>
    /// <exception cref="InvalidOperationException">Called outside a run method or off its scheduler.</exception>
    public static Task SleepAsync(TimeSpan delay)
    {
        if (delay < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(delay), delay, $"Workflow.SleepAsync needs a delay of zero or more, not {delay}.");
        }

        return Require("Workflow.SleepAsync").SleepAsync(delay, null, "Workflow.SleepAsync");
    }

    /// <summary>
    /// Waits durably until <paramref name="wakeAt"/> (at once when it has passed); the time is journaled, so the wait
    /// survives restarts and crashes.
    /// </summary>
    /// <param name="wakeAt">When to go on.</param>
    /// <returns>A task that completes when the time has come.</returns>
    /// <exception cref="InvalidOperationException">Called outside a run method or off its scheduler.</exception>
    public static Task SleepUntilAsync(DateTimeOffset wakeAt)
        => Require("Workflow.SleepUntilAsync").SleepAsync(TimeSpan.Zero, wakeAt, "Workflow.SleepUntilAsync");

    private static WorkflowExecution Require(string api)
        => WorkflowExecution.Current
            ?? throw new InvalidOperationException(
                $"{api} can only be used inside a workflow's [WorkflowRun] method. Step bodies run outside the "
                + "journal and may use TimeProvider, Guid.NewGuid() and Random directly.");
}
