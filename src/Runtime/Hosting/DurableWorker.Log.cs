using Microsoft.Extensions.Logging;

namespace Durably.Runtime.Hosting;

/// <summary>The worker's log messages.</summary>
public sealed partial class DurableWorker
{
    [LoggerMessage(1, LogLevel.Information, "Durably worker {WorkerName} started, executing up to {MaxConcurrentRuns} runs at once")]
    private static partial void LogStarted(ILogger logger, string workerName, int maxConcurrentRuns);

    [LoggerMessage(2, LogLevel.Debug, "Run {WorkflowId}: {Outcome}, status {Status}")]
    private static partial void LogExecuted(ILogger logger, string workflowId, ExecutionOutcome outcome, WorkflowStatus status);

    [LoggerMessage(3, LogLevel.Error, "Run {WorkflowId} could not be executed; it stays in the store and will be tried again")]
    private static partial void LogExecutionFailed(ILogger logger, string workflowId, Exception exception);

    [LoggerMessage(4, LogLevel.Warning, "The Durably store is unavailable while the worker stops; its runs' leases lapse and another worker takes them")]
    private static partial void LogStoreUnavailable(ILogger logger, Exception exception);

    [LoggerMessage(5, LogLevel.Information, "Durably worker stopping: letting {Count} runs finish for up to {Timeout}")]
    private static partial void LogDraining(ILogger logger, int count, TimeSpan timeout);
}
