using Durably.Runtime.Journal;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Durably.Runtime.Observability;

/// <summary>
/// One engine's traces, metrics, log and alerts (see <see cref="DurablyDiagnostics"/>). The engine calls it where a
/// transition is journaled, never while replaying, so nothing is counted or alerted twice.
/// </summary>
internal sealed partial class EngineTelemetry
{
    /// <summary>The source of every Durably activity.</summary>
    public static readonly ActivitySource Source = new(DurablyDiagnostics.ActivitySourceName, typeof(EngineTelemetry).Assembly.GetName().Version?.ToString());

    private readonly Counter<long> _stepsCompleted;
    private readonly Counter<long> _stepsFailed;
    private readonly Counter<long> _stepsRetried;
    private readonly Histogram<double> _stepDuration;
    private readonly Counter<long> _runsFinished;
    private readonly Counter<long> _deadLetters;
    private readonly Counter<long> _runsRecovered;
    private readonly Counter<long> _progressWrites;
    private readonly string _worker;
    private readonly TimeProvider _time;

    public EngineTelemetry(IServiceProvider services, string worker, TimeProvider time, TimeSpan alertTimeout)
    {
        _worker = worker;
        _time = time;
        var loggers = services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance;
        Logger = loggers.CreateLogger("Durably.Engine");
        // From the host's IMeterFactory when there is one (so each container has its own meter), else a meter of our own.
        Meter = services.GetService<IMeterFactory>()?.Create(DurablyDiagnostics.MeterName) ?? new Meter(DurablyDiagnostics.MeterName);
        _stepsCompleted = Meter.CreateCounter<long>("durably.steps.completed", "{step}", "Step calls that completed (journaled).");
        _stepsFailed = Meter.CreateCounter<long>("durably.steps.failed", "{step}", "Step calls that failed for good (journaled).");
        _stepsRetried = Meter.CreateCounter<long>("durably.steps.retried", "{attempt}", "Failed step attempts scheduled for a retry (journaled).");
        _stepDuration = Meter.CreateHistogram<double>("durably.step.duration", "s", "How long one step attempt took.");
        _runsFinished = Meter.CreateCounter<long>("durably.runs.finished", "{run}", "Runs that ended, by final status.");
        _deadLetters = Meter.CreateCounter<long>("durably.dead_letters", "{run}", "Runs parked for an operator.");
        _runsRecovered = Meter.CreateCounter<long>("durably.runs.recovered", "{run}", "Runs taken over from a worker that still held them.");
        _progressWrites = Meter.CreateCounter<long>("durably.progress.writes", "{write}", "Writes of steps' progress reports (throttled per run).");
        Alerts = new AlertDispatcher(services.GetServices<IDurableAlertSink>(), alertTimeout, loggers.CreateLogger(LogAlertSink.Category));
    }

    public Meter Meter { get; }

    public ILogger Logger { get; }

    public AlertDispatcher Alerts { get; }

    public static Activity? StartRun(string workflowName, string workflowId)
    {
        var activity = Source.StartActivity("durably.run", ActivityKind.Internal);
        activity?.SetTag("durably.workflow", workflowName);
        activity?.SetTag("durably.workflow_id", workflowId);
        return activity;
    }

    public static Activity? StartStepAttempt(ActivityContext parent, string workflowName, string workflowId, string stepId, long sequence, int attempt, string idempotencyKey)
    {
        var activity = Source.StartActivity("durably.step", ActivityKind.Internal, parent);
        if (activity is not null)
        {
            activity.DisplayName = $"durably.step {stepId}";
            activity.SetTag("durably.workflow", workflowName);
            activity.SetTag("durably.workflow_id", workflowId);
            activity.SetTag("durably.step", stepId);
            activity.SetTag("durably.sequence", sequence);
            activity.SetTag("durably.attempt", attempt);
            activity.SetTag("durably.idempotency_key", idempotencyKey);
        }

        return activity;
    }

    public static void Failed(Activity? activity, Exception exception)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetStatus(ActivityStatusCode.Error, exception.Message);
        activity.AddException(exception);
    }

    public void StepAttemptEnded(string workflowName, string stepId, TimeSpan duration, string outcome)
        => _stepDuration.Record(duration.TotalSeconds, Tags(workflowName, stepId, "durably.outcome", outcome));

    public void ProgressWritten(string workflowName)
        => _progressWrites.Add(1, new KeyValuePair<string, object?>("durably.workflow", workflowName));

    public void StepJournaled(string workflowName, string stepId, bool completed)
        => (completed ? _stepsCompleted : _stepsFailed).Add(1, Tags(workflowName, stepId));

    public void StepRetryScheduled(string workflowName, string stepId, string workflowId, long sequence, int attempts, DateTimeOffset retryAt, Exception failure)
    {
        _stepsRetried.Add(1, Tags(workflowName, stepId));
        LogRetryScheduled(Logger, workflowId, stepId, sequence, attempts, retryAt, failure.GetType().FullName, failure.Message);
        RetryObserver?.Invoke(new ScheduledRetry(workflowId, sequence, stepId, attempts, _time.GetUtcNow(), retryAt, failure));
    }

    /// <summary>Told of every retry this engine schedules, as it is journaled (the test kit keeps a run's retries with their times).</summary>
    public Action<ScheduledRetry>? RetryObserver { get; set; }

    /// <summary>Counts the end of a run, and alerts when it failed or was parked.</summary>
    public void RunFinished(string workflowName, int version, string workflowId, WorkflowStatus status, WorkflowError? error, string? failedStep, long? failedSequence)
    {
        _runsFinished.Add(1, new KeyValuePair<string, object?>("durably.workflow", workflowName), new KeyValuePair<string, object?>("durably.status", status.ToString()));
        if (status == WorkflowStatus.DeadLettered)
        {
            _deadLetters.Add(1, new KeyValuePair<string, object?>("durably.workflow", workflowName));
        }

        if (status is WorkflowStatus.Failed or WorkflowStatus.DeadLettered)
        {
            var kind = status == WorkflowStatus.Failed ? DurableAlertKind.RunFailed : DurableAlertKind.RunDeadLettered;
            Alerts.Publish(new DurableAlert(kind, workflowId, workflowName, version, status, error, failedStep, failedSequence, _worker, null, _time.GetUtcNow()));
        }
    }

    /// <summary>Counts and alerts a run taken over from <paramref name="previousWorker"/>.</summary>
    public void RunRecovered(string workflowName, int version, string workflowId, string previousWorker)
    {
        _runsRecovered.Add(1, new KeyValuePair<string, object?>("durably.workflow", workflowName));
        Alerts.Publish(new DurableAlert(DurableAlertKind.RunRecovered, workflowId, workflowName, version, WorkflowStatus.Running, null, null, null, _worker, previousWorker, _time.GetUtcNow()));
    }

    /// <summary>
    /// Says, once, that runs of <paramref name="workflow"/> wait for a worker and this one cannot run them: a warning line
    /// and a <see cref="DurableAlertKind.RunsWaitingForWorker"/> alert.
    /// </summary>
    public void RunsWaitingForWorker(ActiveWorkflowVersion workflow, IReadOnlyCollection<WorkflowVersion> runnable)
    {
        var has = runnable.Count == 0 ? "no workflows" : string.Join(", ", runnable.OrderBy(v => v.Name, StringComparer.Ordinal).ThenBy(v => v.Version));
        var message = $"{workflow.WaitingForWorker} run(s) of workflow {workflow.Workflow} wait for a worker that can run them (the oldest active one started "
            + $"{workflow.OldestStartedAt:O}); worker '{_worker}' has {has}. Deploy a build that registers {workflow.Workflow} — keep the old class "
            + "beside the new one — until its runs have finished.";
        LogRunsWaitingForWorker(Logger, message);
        Alerts.Publish(new DurableAlert(DurableAlertKind.RunsWaitingForWorker, string.Empty, workflow.Workflow.Name, workflow.Workflow.Version, WorkflowStatus.Running,
            new WorkflowError("Durably.WorkflowVersionNotRegistered", message), null, null, _worker, null, _time.GetUtcNow()));
    }

    [LoggerMessage(11, LogLevel.Warning, "{Message}")]
    private static partial void LogRunsWaitingForWorker(ILogger logger, string message);

    private static TagList Tags(string workflowName, string stepId, string? key = null, string? value = null)
    {
        var tags = new TagList { { "durably.workflow", workflowName }, { "durably.step", stepId } };
        if (key is not null)
        {
            tags.Add(key, value);
        }

        return tags;
    }

    [LoggerMessage(10, LogLevel.Information, "Run {WorkflowId}: attempt {Attempts} of step {StepId} (sequence {Sequence}) failed with {ErrorType}: {ErrorMessage}; retrying at {RetryAt:O}")]
    private static partial void LogRetryScheduled(ILogger logger, string workflowId, string stepId, long sequence, int attempts, DateTimeOffset retryAt, string? errorType, string errorMessage);
}

/// <summary>A step attempt failed and the next is scheduled (see <see cref="EngineTelemetry.RetryObserver"/>).</summary>
/// <param name="WorkflowId">The run.</param>
/// <param name="Sequence">The step call's sequence.</param>
/// <param name="StepId">The step.</param>
/// <param name="FailedAttempt">The attempt that failed, from 1.</param>
/// <param name="FailedAt">When its failure was journaled.</param>
/// <param name="RetryAt">When the next attempt is due.</param>
/// <param name="Failure">What the attempt threw.</param>
internal sealed record ScheduledRetry(string WorkflowId, long Sequence, string StepId, int FailedAttempt, DateTimeOffset FailedAt, DateTimeOffset RetryAt, Exception Failure);
