using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Durably.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Durably.Runtime.Tests.Observability;

/// <summary>
/// Traces, metrics and alerts, on the in-memory store with a manual clock: they follow journaled transitions, so a
/// resumed run neither counts nor alerts what it replays; alert sinks run off the run's path and their failures are
/// logged, never felt by the run.
/// </summary>
public sealed class TelemetryTests : StoreTestBase
{
    private readonly TripLog _log = new();
    private readonly ListLoggerFactory _logs = new();
    private readonly CollectingSink _alerts = new();

    private protected override TestStorage CreateStorage() => TestStorage.InMemory(Clock);

    private TestHost Host(Action<IDurablyBuilder>? alerts = null, string worker = "telemetry-worker", Action<DurableOptions>? options = null) => Track(new TestHost(
        OpenStore(), d =>
        {
            d.AddWorkflow<Trip>().AddAlertSink(_alerts);
            alerts?.Invoke(d);
        },
        s => s.AddSingleton<TimeProvider>(Clock).AddSingleton(_log).AddSingleton<ILoggerFactory>(_logs),
        worker,
        o =>
        {
            o.UnloadThreshold = Timeout.InfiniteTimeSpan;
            o.CompensationRetryPolicy = new RetryPolicy { MaxAttempts = 1 };
            options?.Invoke(o);
        }));

    private static string NewId() => "obs-" + Guid.NewGuid().ToString("N");

    /// <summary>The flight fails <paramref name="failures"/> times with a retryable error, then is booked; each attempt takes 2 s.</summary>
    private void FlightFailsThenWorks(int failures, ManualTimeProvider clock)
        => _log.BookFlight = (attempt, _) =>
        {
            clock.Advance(TimeSpan.FromSeconds(2));
            return attempt <= failures ? throw new TimeoutException($"airline slow on attempt {attempt}") : Task.FromResult($"flight {attempt}");
        };

    [Fact]
    public async Task Metrics_count_each_journaled_transition_once_and_a_resumed_run_does_not_count_what_it_replays()
    {
        var host = Host();
        using var metrics = new Measurements(host.Engine.Context.Telemetry.Meter);
        var id = NewId();
        var booking = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _log.BookFlight = async (_, token) =>
        {
            booking.TrySetResult();
            await Task.Delay(Timeout.Infinite, token);
            return "never";
        };
        await host.Get<TripClient>().StartAsync("ada", id);

        // First execution: hotel and card journaled, then stopped (a shutdown) while the flight is in flight.
        using (var stop = new CancellationTokenSource())
        {
            var first = host.Engine.ExecuteAsync(id, stop.Token);
            await booking.Task.WaitAsync(Wait.Timeout);
            await stop.CancelAsync();
            await first.WaitAsync(Wait.Timeout);
        }

        Assert.Equal(2, metrics.Sum("durably.steps.completed"));
        Assert.Equal(0, metrics.Sum("durably.runs.finished"));

        // Second execution: replays hotel and card (not counted again); the flight (its stopped attempt was attempt 1)
        // fails at attempt 2, is retried, then booked.
        FlightFailsThenWorks(2, Clock);
        Assert.Equal(WorkflowStatus.Completed, (await host.Engine.ExecuteAsync(id).WaitAsync(Wait.Timeout)).Status);

        Assert.Equal(3, metrics.Sum("durably.steps.completed"));
        Assert.Equal(1, metrics.Sum("durably.steps.completed", "durably.step", "BookFlight"));
        Assert.Equal(1, metrics.Sum("durably.steps.retried", "durably.step", "BookFlight"));
        Assert.Equal(0, metrics.Sum("durably.steps.failed"));
        Assert.Equal(1, metrics.Sum("durably.runs.finished", "durably.status", "Completed"));
        Assert.Equal(0, metrics.Sum("durably.dead_letters"));
        Assert.All(metrics.Taken("durably.steps.completed"), m => Assert.Equal("Trip", m.Tags["durably.workflow"]));
        // One duration per attempt that ended (the stopped one did not): two instant ones, then 2 s failed, 2 s completed.
        var durations = metrics.Taken("durably.step.duration");
        Assert.Equal([(0.0, "completed"), (0.0, "completed"), (2.0, "failed"), (2.0, "completed")], durations.Select(d => (d.Value, (string)d.Tags["durably.outcome"]!)));

        // Ended runs are never executed again: nothing more is counted.
        await host.Engine.ExecuteAsync(id).WaitAsync(Wait.Timeout);
        Assert.Equal(1, metrics.Sum("durably.runs.finished"));
    }

    [Fact]
    public async Task Dead_letters_and_failures_are_counted_by_final_status()
    {
        var host = Host();
        using var metrics = new Measurements(host.Engine.Context.Telemetry.Meter);
        FlightFailsThenWorks(int.MaxValue, Clock);
        var parked = NewId();
        await host.Get<TripClient>().StartAsync("bob", parked);
        Assert.Equal(WorkflowStatus.DeadLettered, (await host.Engine.ExecuteAsync(parked).WaitAsync(Wait.Timeout)).Status);
        _log.BookFlight = (_, _) => throw new InvalidOperationException("no seats left");
        var failed = NewId();
        await host.Get<TripClient>().StartAsync("cy", failed);
        Assert.Equal(WorkflowStatus.Failed, (await host.Engine.ExecuteAsync(failed).WaitAsync(Wait.Timeout)).Status);

        Assert.Equal(1, metrics.Sum("durably.runs.finished", "durably.status", "DeadLettered"));
        Assert.Equal(1, metrics.Sum("durably.runs.finished", "durably.status", "Failed"));
        Assert.Equal(1, metrics.Sum("durably.dead_letters"));
        Assert.Equal(2, metrics.Sum("durably.steps.failed", "durably.step", "BookFlight"));
        Assert.Equal(2, metrics.Sum("durably.steps.retried"));
        Assert.Equal(3, metrics.Taken("durably.step.duration").Count(d => (string)d.Tags["durably.outcome"]! == "failed" && d.Value == 2.0));
    }

    [Fact]
    public async Task Each_execution_and_each_step_attempt_is_an_activity_with_the_attempt_s_identity()
    {
        using var activities = new Activities();
        var host = Host();
        var id = NewId();
        FlightFailsThenWorks(1, Clock);
        await host.Get<TripClient>().StartAsync("dee", id);

        Assert.Equal(WorkflowStatus.Completed, (await host.Engine.ExecuteAsync(id).WaitAsync(Wait.Timeout)).Status);

        var mine = activities.For(id);
        var run = Assert.Single(mine, a => a.OperationName == "durably.run");
        Assert.Equal(("Trip", "Finished", "Completed"), ((string?)run.GetTagItem("durably.workflow"), (string?)run.GetTagItem("durably.outcome"), (string?)run.GetTagItem("durably.status")));
        var steps = mine.Where(a => a.OperationName == "durably.step").OrderBy(a => a.StartTimeUtc).ToList();
        Assert.Equal(["ReserveHotel/0/1", "ChargeCard/1/1", "BookFlight/2/1", "BookFlight/2/2"],
            steps.Select(s => $"{s.GetTagItem("durably.step")}/{s.GetTagItem("durably.sequence")}/{s.GetTagItem("durably.attempt")}"));
        Assert.All(steps, s => Assert.Equal(run.SpanId, s.ParentSpanId));
        Assert.All(steps, s => Assert.Equal(run.TraceId, s.TraceId));
        Assert.Equal($"{id}/BookFlight/2", steps[3].GetTagItem("durably.idempotency_key"));
        Assert.Equal((ActivityStatusCode.Error, "airline slow on attempt 1"), (steps[2].Status, steps[2].StatusDescription));
        Assert.Equal("System.TimeoutException", steps[2].Events.Single(e => e.Name == "exception").Tags.Single(t => t.Key == "exception.type").Value);
        Assert.Equal(ActivityStatusCode.Unset, steps[3].Status);
        Assert.Equal("durably.step BookFlight", steps[3].DisplayName);
    }

    [Fact]
    public async Task A_run_that_fails_or_is_parked_alerts_once_and_a_completed_or_cancelled_one_does_not()
    {
        var host = Host();
        _log.BookFlight = (_, _) => throw new InvalidOperationException("no seats left");
        var failed = NewId();
        await host.Get<TripClient>().StartAsync("eve", failed);
        await host.Engine.ExecuteAsync(failed).WaitAsync(Wait.Timeout);
        var failedAt = Clock.GetUtcNow();
        FlightFailsThenWorks(int.MaxValue, Clock);
        var parked = NewId();
        await host.Get<TripClient>().StartAsync("fay", parked);
        await host.Engine.ExecuteAsync(parked).WaitAsync(Wait.Timeout);
        FlightFailsThenWorks(0, Clock);
        var completed = NewId();
        await host.Get<TripClient>().StartAsync("gus", completed);
        await host.Engine.ExecuteAsync(completed).WaitAsync(Wait.Timeout);
        var cancelled = NewId();
        await host.Get<TripClient>().StartAsync("hal", cancelled);
        await host.Client.CancelAsync(cancelled, "plans changed");
        await host.Engine.ExecuteAsync(cancelled).WaitAsync(Wait.Timeout);
        // Executing ended runs again (as a second worker might) repeats nothing.
        await host.Engine.ExecuteAsync(failed).WaitAsync(Wait.Timeout);
        await host.Engine.ExecuteAsync(parked).WaitAsync(Wait.Timeout);

        await host.Engine.Context.Telemetry.Alerts.FlushAsync(Wait.Timeout);

        Assert.Equal(2, _alerts.Received.Count);
        var failure = _alerts.Received.Single(a => a.WorkflowId == failed);
        Assert.Equal((DurableAlertKind.RunFailed, WorkflowStatus.Failed, "BookFlight", 2L, "telemetry-worker"), (failure.Kind, failure.Status, failure.FailedStep, failure.FailedSequence, failure.Worker));
        Assert.Equal(new WorkflowError("Durably.StepFailedException", "Step 'BookFlight' (sequence 2) failed: System.InvalidOperationException: no seats left"), failure.Error);
        Assert.Equal(failedAt, failure.At);
        Assert.Equal($"Run '{failed}' of workflow 'Trip' v1 ended Failed at step 'BookFlight' (sequence 2): {failure.Error}", failure.Summary);
        var letter = _alerts.Received.Single(a => a.WorkflowId == parked);
        Assert.Equal((DurableAlertKind.RunDeadLettered, WorkflowStatus.DeadLettered, "BookFlight"), (letter.Kind, letter.Status, letter.FailedStep));
        Assert.Contains("airline slow on attempt 3", letter.Error!.Message, StringComparison.Ordinal);

        // The log sink is always there: a dead letter is an error, a failure a warning.
        Assert.Contains(_logs.Log.Lines, l => l.StartsWith($"Error: Run {parked} of workflow Trip was dead-lettered at step 'BookFlight' (sequence 2): Durably.StepFailedException:", StringComparison.Ordinal));
        Assert.Contains(_logs.Log.Lines, l => l.StartsWith($"Warning: Run {failed} of workflow Trip failed at step 'BookFlight' (sequence 2):", StringComparison.Ordinal));
        Assert.Contains(_logs.Log.Lines, l => l.StartsWith($"Information: Run {parked}: attempt 1 of step BookFlight (sequence 2) failed with System.TimeoutException: airline slow on attempt 1; retrying at", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_run_whose_run_method_throws_is_said_to_fail_in_its_run_method_not_at_a_null_step()
    {
        var host = Host(d => d.AddWorkflow<Exploder>());
        var id = NewId();
        await host.Get<ExploderClient>().StartAsync("boom", id);

        await host.Engine.ExecuteAsync(id).WaitAsync(Wait.Timeout);
        await host.Engine.Context.Telemetry.Alerts.FlushAsync(Wait.Timeout);

        var alert = Assert.Single(_alerts.Received);
        Assert.Equal((DurableAlertKind.RunFailed, null), (alert.Kind, alert.FailedStep));
        Assert.Equal("in its run method, outside any step", alert.Where);
        Assert.StartsWith($"Run '{id}' of workflow 'Exploder' v1 ended Failed in its run method, outside any step: ", alert.Summary, StringComparison.Ordinal);
        Assert.Contains(_logs.Log.Lines, l => l.StartsWith($"Warning: Run {id} of workflow Exploder failed in its run method, outside any step: System.InvalidOperationException: boom", StringComparison.Ordinal));
        Assert.DoesNotContain(_logs.Log.Lines, l => l.Contains("(null)", StringComparison.Ordinal) || l.Contains("step  ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_run_taken_over_from_a_worker_that_still_held_it_alerts_a_recovery_once()
    {
        var host = Host();
        using var metrics = new Measurements(host.Engine.Context.Telemetry.Meter);
        var id = NewId();
        FlightFailsThenWorks(0, Clock);
        await host.Get<TripClient>().StartAsync("ivy", id);
        // A worker claims the run and dies: its lease is never renewed nor the run released.
        Assert.NotNull(await host.Store.TryClaimAsync(id, "crashed-worker", TimeSpan.FromSeconds(30), default));
        Assert.Equal(ExecutionOutcome.NotClaimed, (await host.Engine.ExecuteAsync(id).WaitAsync(Wait.Timeout)).Outcome);

        Clock.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(WorkflowStatus.Completed, (await host.Engine.ExecuteAsync(id).WaitAsync(Wait.Timeout)).Status);
        await host.Engine.Context.Telemetry.Alerts.FlushAsync(Wait.Timeout);

        var recovered = Assert.Single(_alerts.Received);
        Assert.Equal((DurableAlertKind.RunRecovered, id, "telemetry-worker", "crashed-worker", WorkflowStatus.Running), (recovered.Kind, recovered.WorkflowId, recovered.Worker, recovered.PreviousWorker, recovered.Status));
        Assert.Equal(1, metrics.Sum("durably.runs.recovered"));
        Assert.Contains(_logs.Log.Lines, l => l == $"Warning: Run {id} of workflow Trip was recovered by worker telemetry-worker from worker crashed-worker, which still held it");
    }

    [Fact]
    public async Task A_sink_that_hangs_or_throws_is_logged_and_neither_delays_the_run_nor_keeps_the_other_sinks_from_their_alert()
    {
        var hanging = new HangingSink();
        var host = Host(d => d.AddAlertSink(hanging).AddAlertSink(new ThrowingSink()), options: o => o.AlertTimeout = TimeSpan.FromMilliseconds(50));
        _log.BookFlight = (_, _) => throw new InvalidOperationException("no seats left");
        var id = NewId();
        await host.Get<TripClient>().StartAsync("jo", id);

        Assert.Equal(WorkflowStatus.Failed, (await host.Engine.ExecuteAsync(id).WaitAsync(Wait.Timeout)).Status);
        await host.Engine.Context.Telemetry.Alerts.FlushAsync(Wait.Timeout);

        Assert.Single(_alerts.Received);
        Assert.True(hanging.Called.IsCompleted);
        Assert.Contains(_logs.Log.Lines, l => l == $"Error: Durably alert sink HangingSink could not deliver the RunFailed alert of run {id}; the run is not affected");
        Assert.Contains(_logs.Log.Lines, l => l == $"Error: Durably alert sink ThrowingSink could not deliver the RunFailed alert of run {id}; the run is not affected");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(11 * 60 * 1000)]
    public void An_alert_timeout_out_of_range_is_refused_naming_it(int milliseconds)
    {
        var options = new DurableOptions { AlertTimeout = TimeSpan.FromMilliseconds(milliseconds) };
        var error = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
        Assert.Equal("AlertTimeout", error.ParamName);
    }

    private sealed class CollectingSink : IDurableAlertSink
    {
        private readonly ConcurrentQueue<DurableAlert> _received = new();

        public IReadOnlyList<DurableAlert> Received => [.. _received];

        public Task SendAsync(DurableAlert alert, CancellationToken cancellationToken)
        {
            _received.Enqueue(alert);
            return Task.CompletedTask;
        }
    }

    private sealed class HangingSink : IDurableAlertSink
    {
        private readonly TaskCompletionSource _called = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Called => _called.Task;

        public Task SendAsync(DurableAlert alert, CancellationToken cancellationToken)
        {
            _called.TrySetResult();
            return new TaskCompletionSource().Task;   // never completes, ignores its token
        }
    }

    private sealed class ThrowingSink : IDurableAlertSink
    {
        public Task SendAsync(DurableAlert alert, CancellationToken cancellationToken) => throw new InvalidOperationException("pager down");
    }

    /// <summary>What one engine's meter measured.</summary>
    internal sealed class Measurements : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentQueue<(string Name, double Value, Dictionary<string, object?> Tags)> _taken = new();

        public Measurements(Meter meter)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter, meter))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Take(instrument, value, tags));
            _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Take(instrument, value, tags));
            _listener.Start();
        }

        public IReadOnlyList<(string Name, double Value, Dictionary<string, object?> Tags)> Taken(string name) => [.. _taken.Where(t => t.Name == name)];

        public long Sum(string name, string? tag = null, string? value = null)
            => (long)Taken(name).Where(t => tag is null || Equals(t.Tags.GetValueOrDefault(tag), value)).Sum(t => t.Value);

        public void Dispose() => _listener.Dispose();

        private void Take(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var copy = new Dictionary<string, object?>();
            foreach (var tag in tags)
            {
                copy[tag.Key] = tag.Value;
            }

            _taken.Enqueue((instrument.Name, value, copy));
        }
    }

    /// <summary>Every Durably activity that ended while it listened.</summary>
    internal sealed class Activities : IDisposable
    {
        private readonly ActivityListener _listener;
        private readonly ConcurrentQueue<Activity> _stopped = new();

        public Activities()
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name == DurablyDiagnostics.ActivitySourceName,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = _stopped.Enqueue,
            };
            ActivitySource.AddActivityListener(_listener);
        }

        public IReadOnlyList<Activity> For(string workflowId) => [.. _stopped.Where(a => (string?)a.GetTagItem("durably.workflow_id") == workflowId)];

        public void Dispose() => _listener.Dispose();
    }
}
