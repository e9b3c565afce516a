using Microsoft.Extensions.Logging;

namespace Durably.Runtime;

/// <summary>
/// The alert sink that is always there: writes each alert to the log (category <c>Durably.Alerts</c>) — a dead letter
/// as an error, a failure and a recovery as warnings — with the run's id, workflow, step and error as structured values.
/// </summary>
public sealed partial class LogAlertSink : IDurableAlertSink
{
    /// <summary>The log category.</summary>
    public const string Category = "Durably.Alerts";

    private readonly ILogger _logger;

    /// <summary>Creates the sink.</summary>
    /// <param name="loggerFactory">Where to log; nowhere when <see langword="null"/>.</param>
    public LogAlertSink(ILoggerFactory? loggerFactory = null)
        => _logger = loggerFactory?.CreateLogger(Category) ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    /// <inheritdoc/>
    public Task SendAsync(DurableAlert alert, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alert);
        switch (alert.Kind)
        {
            case DurableAlertKind.RunDeadLettered:
                LogDeadLettered(_logger, alert.WorkflowId, alert.WorkflowName, alert.Where, alert.Error?.Type, alert.Error?.Message, alert.Worker);
                break;
            case DurableAlertKind.RunFailed:
                LogFailed(_logger, alert.WorkflowId, alert.WorkflowName, alert.Where, alert.Error?.Type, alert.Error?.Message, alert.Worker);
                break;
            case DurableAlertKind.RunRecovered:
                LogRecovered(_logger, alert.WorkflowId, alert.WorkflowName, alert.Worker, alert.PreviousWorker);
                break;
            default:
                // Already logged where it was found (runs waiting for a worker): the alert is for the other sinks.
                break;
        }

        return Task.CompletedTask;
    }

    [LoggerMessage(30, LogLevel.Error, "Run {WorkflowId} of workflow {WorkflowName} was dead-lettered {Where}: {ErrorType}: {ErrorMessage} (worker {Worker}); retry or discard it")]
    private static partial void LogDeadLettered(ILogger logger, string workflowId, string workflowName, string where, string? errorType, string? errorMessage, string worker);

    [LoggerMessage(31, LogLevel.Warning, "Run {WorkflowId} of workflow {WorkflowName} failed {Where}: {ErrorType}: {ErrorMessage} (worker {Worker})")]
    private static partial void LogFailed(ILogger logger, string workflowId, string workflowName, string where, string? errorType, string? errorMessage, string worker);

    [LoggerMessage(32, LogLevel.Warning, "Run {WorkflowId} of workflow {WorkflowName} was recovered by worker {Worker} from worker {PreviousWorker}, which still held it")]
    private static partial void LogRecovered(ILogger logger, string workflowId, string workflowName, string worker, string? previousWorker);
}
