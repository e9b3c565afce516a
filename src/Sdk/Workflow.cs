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

    private static WorkflowExecution Require(string api)
        => WorkflowExecution.Current
            ?? throw new InvalidOperationException(
                $"{api} can only be used inside a workflow's [WorkflowRun] method. Step bodies run outside the "
                + "journal and may use TimeProvider, Guid.NewGuid() and Random directly.");
}
