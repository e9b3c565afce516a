
namespace Durably.Runtime;

/// <summary>
/// The names under which Durably reports traces and metrics. With OpenTelemetry:
/// <c>.WithTracing(t => t.AddSource(DurablyDiagnostics.ActivitySourceName))</c> and
/// <c>.WithMetrics(m => m.AddMeter(DurablyDiagnostics.MeterName))</c>.
/// </summary>
/// <remarks>
/// <para>Traces: an activity <c>durably.run</c> per run execution (a run resumed after a crash or a long wait has one per
/// execution) and, as its child, <c>durably.step</c> per step attempt; tagged <c>durably.workflow</c>,
/// <c>durably.workflow_id</c>, and on steps <c>durably.step</c>, <c>durably.sequence</c>, <c>durably.attempt</c>,
/// <c>durably.idempotency_key</c>. A failed attempt has status Error with the exception's type and message.</para>
/// <para>Metrics, all tagged <c>durably.workflow</c> (and <c>durably.step</c> for steps): counters
/// <c>durably.steps.completed</c>, <c>durably.steps.failed</c> (failed for good), <c>durably.steps.retried</c>,
/// <c>durably.runs.finished</c> (tagged <c>durably.status</c>), <c>durably.dead_letters</c>,
/// <c>durably.runs.recovered</c> (taken over from a crashed worker); histogram <c>durably.step.duration</c> in seconds
/// per attempt (tagged <c>durably.outcome</c>: completed, failed or timed_out). Counters count journaled transitions, so
/// a replay never counts a step or a run again.</para>
/// </remarks>
public static class DurablyDiagnostics
{
    /// <summary>The <see cref="System.Diagnostics.ActivitySource"/> name: <c>Durably</c>.</summary>
    public const string ActivitySourceName = "Durably";

    /// <summary>The <see cref="System.Diagnostics.Metrics.Meter"/> name: <c>Durably</c>.</summary>
    public const string MeterName = "Durably";
}
