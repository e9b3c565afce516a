using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Durably.Runtime.Tests.Support;

/// <summary>Five steps in a row; the fourth waits at the gate, so a test can stop the run after three.</summary>
[DurableWorkflow]
internal partial class FiveSteps(BodyLog log, Gate gate)
{
    [WorkflowRun]
    public async Task<string> RunAsync(string order)
    {
        var results = new List<string>();
        for (var index = 1; index <= 5; index++)
        {
            results.Add(await Work(order, index));
        }

        return string.Join("|", results);
    }

    [Step]
    private async Task<string> Work(string order, int index, CancellationToken cancellationToken = default)
    {
        log.Record();
        if (index == 4)
        {
            await gate.PassAsync(cancellationToken);
        }

        // Unique per body execution: a replayed result is recognisably the journaled one.
        return $"{order}-{index}-{Guid.NewGuid():N}";
    }
}

/// <summary>A fan-out with Task.WhenAll next to a helper that awaits two steps in a row; bodies take random time.</summary>
[DurableWorkflow]
internal partial class FanOut(BodyLog log)
{
    [WorkflowRun]
    public async Task<string> RunAsync(int[] items)
    {
        var deliveries = new List<string>();
        var fan = Task.WhenAll(items.Select(async item =>
        {
            var square = await Square(item);
            deliveries.Add("s" + square);
            return square;
        }));
        var pair = Pair(10, deliveries);
        var squares = await fan;
        var quadrupled = await pair;
        return $"{string.Join(",", squares)};{quadrupled};{string.Join(",", deliveries)};{Workflow.NewGuid()};{Workflow.Random.Next()};{Workflow.Now:O}";
    }

    private async Task<int> Pair(int value, List<string> deliveries)
    {
        var twice = await Double(value);
        deliveries.Add("a" + twice);
        var four = await Double(twice);
        deliveries.Add("b" + four);
        return four;
    }

    [Step]
    private async Task<int> Square(int item)
    {
        log.Record();
        await Task.Delay(Random.Shared.Next(0, 12));
        return item * item;
    }

    [Step]
    private async Task<int> Double(int value)
    {
        log.Record();
        await Task.Delay(Random.Shared.Next(0, 12));
        return value * 2;
    }
}

internal sealed class Ordering
{
    public bool Swapped { get; set; }
}

/// <summary>Calls Reserve then Charge, or Charge then Reserve when swapped: the same code, changed between runs.</summary>
[DurableWorkflow(Version = 3)]
internal partial class Reorderable(Ordering ordering, BodyLog log, Gate gate)
{
    [WorkflowRun]
    public async Task<string> RunAsync()
    {
        if (ordering.Swapped)
        {
            await Charge();
            await Reserve();
        }
        else
        {
            await Reserve();
            await Charge();
        }

        await Ship();
        return "shipped";
    }

    [Step]
    private Task Reserve()
    {
        log.Record();
        return Task.CompletedTask;
    }

    [Step]
    private Task Charge()
    {
        log.Record();
        return Task.CompletedTask;
    }

    [Step]
    private async Task Ship(CancellationToken cancellationToken = default)
    {
        log.Record();
        await gate.PassAsync(cancellationToken);
    }
}

/// <summary>Leaves the run's scheduler with ConfigureAwait(false) before its second step.</summary>
[DurableWorkflow]
internal partial class LeavesScheduler(BodyLog log)
{
    [WorkflowRun]
    public async Task<int> RunAsync()
    {
#pragma warning disable DURABLE0034 // on purpose: the test shows the run failing at run time when code does this anyway
        var first = await First().ConfigureAwait(false);
#pragma warning restore DURABLE0034
        return first + await Second();
    }

    [Step]
    private Task<int> First()
    {
        log.Record();
        return Task.FromResult(1);
    }

    [Step]
    private Task<int> Second()
    {
        log.Record();
        return Task.FromResult(2);
    }
}

/// <summary>A step that throws; the run method reports what it caught.</summary>
[DurableWorkflow]
internal partial class Failing(BodyLog log)
{
    [WorkflowRun]
    public async Task<string> RunAsync()
    {
        try
        {
            await Explode();
            return "not reached";
        }
        catch (StepFailedException failure)
        {
            return $"{failure.StepId}|{failure.Sequence}|{failure.Error.Type}|{failure.Error.Message}|{failure.Message}";
        }
    }

    [Step]
    private Task Explode()
    {
        log.Record();
        throw new InvalidOperationException("boom");
    }
}

/// <summary>A run method that throws after a step.</summary>
[DurableWorkflow]
internal partial class Throwing
{
    [WorkflowRun]
    public async Task RunAsync(int limit)
    {
        var value = await Measure();
        if (value > limit)
        {
            throw new ArgumentOutOfRangeException(nameof(limit), value, "over the limit");
        }
    }

    [Step]
    private ValueTask<int> Measure() => new(42);
}

internal sealed class ScopedThing
{
    public Guid Id { get; } = Guid.NewGuid();
}

/// <summary>Two parallel steps report the StepContext and the scoped service they saw.</summary>
[DurableWorkflow]
internal partial class ContextProbe
{
    [WorkflowRun]
    public async Task<string[]> RunAsync() => await Task.WhenAll(Probe("a"), Probe("b"));

    [Step]
    private Task<string> Probe(string name, CancellationToken cancellationToken = default)
    {
        var step = StepContext.Current!;
        var scoped = step.Services.GetRequiredService<ScopedThing>();
        return Task.FromResult(string.Join("|",
            name, step.WorkflowId, step.StepId, step.Sequence, step.Attempt, step.IdempotencyKey,
            step.CancellationToken == cancellationToken, cancellationToken.CanBeCanceled, scoped.Id));
    }
}

internal sealed record Shipment(string Name, Type Carrier);

/// <summary>A workflow whose input type cannot be serialised.</summary>
[DurableWorkflow]
internal partial class Shipper
{
    [WorkflowRun]
    public async Task<string> RunAsync(Shipment shipment) => await Label(shipment.Name);

    [Step]
    private Task<string> Label(string name) => Task.FromResult(name);
}

/// <summary>Counts how many step bodies run at once.</summary>
internal sealed class Concurrency
{
    private int _current;
    private int _max;

    public int Max => Volatile.Read(ref _max);

    public async Task<T> MeasureAsync<T>(Func<Task<T>> body)
    {
        var now = Interlocked.Increment(ref _current);
        int seen;
        while ((seen = Volatile.Read(ref _max)) < now && Interlocked.CompareExchange(ref _max, now, seen) != seen)
        {
        }

        try
        {
            return await body();
        }
        finally
        {
            Interlocked.Decrement(ref _current);
        }
    }
}

/// <summary>One step that takes a little while, measured for concurrency.</summary>
[DurableWorkflow]
internal partial class SlowJob(Concurrency concurrency)
{
    [WorkflowRun]
    public async Task<int> RunAsync(int value) => await Work(value);

    [Step]
    private Task<int> Work(int value) => concurrency.MeasureAsync(async () =>
    {
        await Task.Delay(25);
        return value * 10;
    });
}

/// <summary>A step, a durable sleep of the input's length, another step; returns how long the run method saw itself sleep.</summary>
[DurableWorkflow]
internal partial class Sleeper(BodyLog log)
{
    [WorkflowRun]
    public async Task<string> RunAsync(TimeSpan delay)
    {
        await Mark("before");
        var asleep = Workflow.Now;
        await Workflow.SleepAsync(delay);
        var awake = Workflow.Now;
        await Mark("after");
        return $"slept {awake - asleep}";
    }

    [Step]
    private Task<string> Mark(string what)
    {
        log.Record();
        return Task.FromResult(what);
    }
}

/// <summary>Sleeps until a given moment.</summary>
[DurableWorkflow]
internal partial class AlarmClock
{
    [WorkflowRun]
    public async Task<DateTimeOffset> RunAsync(DateTimeOffset wakeAt)
    {
        await Workflow.SleepUntilAsync(wakeAt);
        return Workflow.Now;
    }
}

/// <summary>A decision sent as a signal.</summary>
internal sealed record Decision(string By, bool Approved);

/// <summary>A step, then two waits for the same signal, an hour each.</summary>
[DurableWorkflow]
internal partial class ApprovalFlow(BodyLog log)
{
    [WorkflowRun]
    public async Task<string> RunAsync(string order)
    {
        await Request(order);
        var first = await Workflow.WaitForSignalAsync<Decision>("approve", TimeSpan.FromHours(1));
        var second = await Workflow.WaitForSignalAsync<Decision>("approve", TimeSpan.FromHours(1));
        return $"{Describe(first)}|{Describe(second)}";
    }

    private static string Describe(SignalResult<Decision> result) => result.IsReceived ? $"{result.Payload!.By}:{result.Payload.Approved}" : "timed out";

    [Step]
    private Task<string> Request(string order)
    {
        log.Record();
        return Task.FromResult(order);
    }
}

/// <summary>The same wait declared as a [Signal], so the generated client has a typed send method.</summary>
[DurableWorkflow]
internal partial class TypedApproval
{
    [WorkflowRun]
    public async Task<string> RunAsync(string order)
    {
        var decision = await WaitForApprovalAsync(TimeSpan.FromHours(1));
        return decision.IsReceived ? $"{order} {decision.Payload!.By}:{decision.Payload.Approved}" : $"{order} timed out";
    }

    [Signal(Name = "approve")]
    private partial Task<SignalResult<Decision>> WaitForApprovalAsync(TimeSpan timeout);
}

/// <summary>Every workflow object <see cref="Patient"/> creates, held weakly: a test sees whether an unloaded run still holds one.</summary>
internal sealed class Instances
{
    private readonly List<WeakReference> _created = [];

    public int Created
    {
        get
        {
            lock (_created)
            {
                return _created.Count;
            }
        }
    }

    public void Add(object instance)
    {
        lock (_created)
        {
            _created.Add(new WeakReference(instance));
        }
    }

    /// <summary>How many are still reachable after full, blocking collections.</summary>
    public int Alive()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true);
        lock (_created)
        {
            return _created.Count(w => w.IsAlive);
        }
    }
}

/// <summary>Asks, waits for "go" with no timeout, then finishes: a run that waits as long as it takes.</summary>
[DurableWorkflow]
internal partial class Patient
{
    private readonly BodyLog _log;

    public Patient(BodyLog log, Instances instances)
    {
        _log = log;
        instances.Add(this);
    }

    [WorkflowRun]
    public async Task<string> RunAsync(string order)
    {
        await Step(order + " asked");
        var go = await Workflow.WaitForSignalAsync<string>("go", Timeout.InfiniteTimeSpan);
        return await Step($"{order} went with {go.Payload}");
    }

    [Step]
    private Task<string> Step(string what)
    {
        _log.Record();
        return Task.FromResult(what);
    }
}

/// <summary>What <see cref="Tally"/> carries from one run to the next.</summary>
internal sealed record TallyState(int Total, int Remaining);

/// <summary>
/// Adds 10 per run and continues as new while runs remain; the last run waits for a "bonus" signal. A negative
/// remainder continues with the wrong input type.
/// </summary>
[DurableWorkflow]
internal partial class Tally(BodyLog log)
{
    [WorkflowRun]
    public async Task<int> RunAsync(TallyState state)
    {
        var total = await Add(state.Total);
        if (state.Remaining < 0)
        {
            throw Workflow.ContinueAsNew("not a tally state");
        }

        if (state.Remaining > 0)
        {
            throw Workflow.ContinueAsNew(new TallyState(total, state.Remaining - 1));
        }

        var bonus = await Workflow.WaitForSignalAsync<int>("bonus", Timeout.InfiniteTimeSpan);
        return total + bonus.Payload;
    }

    [Step]
    private Task<int> Add(int total)
    {
        log.Record();
        return Task.FromResult(total + 10);
    }
}

/// <summary>
/// A step, a step held at the gate (which honours its cancellation token unless the mode is "stubborn"), a last step:
/// what a cancel stops in the middle.
/// </summary>
[DurableWorkflow]
internal partial class Stoppable(BodyLog log, Gate gate)
{
    [WorkflowRun]
    public async Task<string> RunAsync(string mode)
    {
        await Step("first");
        var held = await Hold(mode);
        await Step("last");
        return held;
    }

    [Step]
    private Task<string> Step(string what)
    {
        log.Record();
        return Task.FromResult(what);
    }

    [Step]
    private async Task<string> Hold(string mode, CancellationToken cancellationToken = default)
    {
        log.Record();
        await gate.PassAsync(mode == "stubborn" ? CancellationToken.None : cancellationToken);
        return mode;
    }
}

/// <summary>A step that throws an exception with the given message; the run method returns what it caught.</summary>
[DurableWorkflow]
internal partial class Thrower
{
    [WorkflowRun]
    public async Task<string> RunAsync(string message)
    {
        try
        {
            await Throw(message);
            return "not reached";
        }
        catch (StepFailedException failure)
        {
            return failure.Error.Message;
        }
    }

    [Step]
    private Task Throw(string message) => throw new InvalidOperationException(message);
}

/// <summary>What <see cref="Chatty"/> saw of <see cref="Workflow.IsReplaying"/>, in order.</summary>
internal sealed class ReplayFlags
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<bool> _flags = new();

    public IReadOnlyList<bool> All => [.. _flags];

    public void Add(bool replaying) => _flags.Enqueue(replaying);
}

/// <summary>Logs through Workflow.Logger before, between and after two steps; the second waits at the gate.</summary>
[DurableWorkflow]
internal partial class Chatty(BodyLog log, Gate gate, ReplayFlags flags)
{
    [WorkflowRun]
    public async Task<string> RunAsync(string order)
    {
        flags.Add(Workflow.IsReplaying);
        Workflow.Logger.LogInformation("Starting {Order}", order);
        var first = await First(order);
        flags.Add(Workflow.IsReplaying);
        Workflow.Logger.LogInformation("First step gave {Result}", first);
        var second = await Second(order);
        flags.Add(Workflow.IsReplaying);
        Workflow.Logger.LogWarning("Finished {Order}", order);
        return first + second;
    }

    [Step]
    private Task<string> First(string order)
    {
        log.Record();
        return Task.FromResult("1");
    }

    [Step]
    private async Task<string> Second(string order, CancellationToken cancellationToken = default)
    {
        log.Record();
        await gate.PassAsync(cancellationToken);
        return "2";
    }
}

/// <summary>How <see cref="Flaky"/>'s step fails: the exception each attempt throws, by attempt number; later attempts succeed.</summary>
internal sealed class FlakyPlan
{
    public Func<int, Exception?> FailureOf { get; set; } = attempt => attempt <= 3 ? new TimeoutException($"attempt {attempt} timed out") : null;

    /// <summary>The current attempt's outcome: the planned failure, or "… ok after n".</summary>
    public Task<string> Attempt(string what)
    {
        var attempt = StepContext.Current!.Attempt;
        return FailureOf(attempt) is { } failure ? Task.FromException<string>(failure) : Task.FromResult($"{what} ok after {attempt}");
    }
}

/// <summary>One step that fails as the plan says; the run method returns its result or the failure it caught.</summary>
[DurableWorkflow]
internal partial class Flaky(BodyLog log, FlakyPlan plan)
{
    [WorkflowRun]
    public async Task<string> RunAsync(string what)
    {
        try
        {
            return await Call(what);
        }
        catch (StepFailedException failure)
        {
            return $"gave up: {failure.Error}";
        }
    }

    [Step]
    private Task<string> Call(string what)
    {
        log.Record();
        return plan.Attempt(what);
    }
}

/// <summary>The retry policy on the attribute: three attempts, no delay, timeouts only.</summary>
[DurableWorkflow]
internal partial class AttributeRetried(BodyLog log, FlakyPlan plan)
{
    [WorkflowRun]
    public async Task<string> RunAsync(string what)
    {
        try
        {
            return await Call(what);
        }
        catch (StepFailedException failure)
        {
            return $"gave up: {failure.Error}";
        }
    }

    [Step(MaxAttempts = 3, InitialDelay = "0s", RetryOn = [typeof(TimeoutException)])]
    private Task<string> Call(string what)
    {
        log.Record();
        return plan.Attempt(what);
    }
}

/// <summary>What each attempt of a scripted step does, and what each attempt saw: its token and its DI scope.</summary>
internal sealed class AttemptScript
{
    private readonly ConcurrentDictionary<int, TaskCompletionSource<SeenAttempt>> _attempts = new();

    /// <summary>The body of attempt n; by default it succeeds at once.</summary>
    public Func<int, CancellationToken, Task<string>> Body { get; set; } = (attempt, _) => Task.FromResult($"ok after {attempt}");

    public Task<string> Run(string what, CancellationToken cancellationToken)
    {
        var step = StepContext.Current!;
        var seen = new SeenAttempt(cancellationToken, step.CancellationToken == cancellationToken, step.Services.GetRequiredService<ScopeProbe>());
        Seen(step.Attempt).TrySetResult(seen);
        return Body(step.Attempt, cancellationToken).ContinueWith(t => $"{what} {t.Result}", TaskScheduler.Default);
    }

    /// <summary>Completes when attempt <paramref name="attempt"/> (from 1) started its body.</summary>
    public Task<SeenAttempt> Attempt(int attempt) => Seen(attempt).Task.WaitAsync(TimeSpan.FromSeconds(30));

    public bool Started(int attempt) => _attempts.TryGetValue(attempt, out var seen) && seen.Task.IsCompleted;

    private TaskCompletionSource<SeenAttempt> Seen(int attempt)
        => _attempts.GetOrAdd(attempt, _ => new TaskCompletionSource<SeenAttempt>(TaskCreationOptions.RunContinuationsAsynchronously));
}

/// <summary>What one attempt's body was given.</summary>
internal sealed record SeenAttempt(CancellationToken Token, bool ContextHasSameToken, ScopeProbe Scope);

/// <summary>A scoped service that knows when its scope was disposed.</summary>
internal sealed class ScopeProbe : IAsyncDisposable
{
    private readonly TaskCompletionSource _disposed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Disposed => _disposed.Task;

    public ValueTask DisposeAsync()
    {
        _disposed.TrySetResult();
        return ValueTask.CompletedTask;
    }
}

/// <summary>One step with a 5 s timeout and two attempts; the run method returns its result or the failure it caught.</summary>
[DurableWorkflow]
internal partial class Deadline(BodyLog log, AttemptScript script)
{
    [WorkflowRun]
    public async Task<string> RunAsync(string what)
    {
        try
        {
            return await Call(what);
        }
        catch (StepFailedException failure)
        {
            return $"gave up: {failure.Error}";
        }
    }

    [Step(Timeout = "5s", MaxAttempts = 2, InitialDelay = "0s")]
    private Task<string> Call(string what, CancellationToken cancellationToken = default)
    {
        log.Record();
        return script.Run(what, cancellationToken);
    }
}

/// <summary>The "payments" service behind a breaker: up or down, and how often it was called.</summary>
internal sealed class PaymentService
{
    private int _calls;

    public volatile bool Down;

    public int Calls => Volatile.Read(ref _calls);

    public Task<string> CallAsync(string what)
    {
        Interlocked.Increment(ref _calls);
        return Down ? Task.FromException<string>(new HttpRequestException($"payments is down ({what})")) : Task.FromResult($"{what} ok after {StepContext.Current!.Attempt}");
    }
}

/// <summary>Two steps naming the "payments" breaker and one naming "shipping"; the run method calls the one its input names.</summary>
[DurableWorkflow]
internal partial class Guarded(PaymentService payments)
{
    [WorkflowRun]
    public async Task<string> RunAsync(string step)
    {
        try
        {
            return step switch
            {
                "charge" => await Charge(),
                "refund" => await Refund(),
                _ => await Ship(),
            };
        }
        catch (StepFailedException failure)
        {
            return $"gave up: {failure.Error}";
        }
    }

    [Step(CircuitBreaker = "payments")]
    private Task<string> Charge() => payments.CallAsync("charge");

    [Step(CircuitBreaker = "payments")]
    private Task<string> Refund() => payments.CallAsync("refund");

    [Step(CircuitBreaker = "shipping")]
    private Task<string> Ship() => payments.CallAsync("ship");
}

/// <summary>What the trip workflow's steps and compensations did, in order; and how its flight booking behaves.</summary>
internal sealed class TripLog
{
    private readonly ConcurrentQueue<string> _calls = new();

    public IReadOnlyList<string> Calls => [.. _calls];

    public ConcurrentQueue<string> Keys { get; } = new();

    public ConcurrentQueue<string> StepKeys { get; } = new();

    /// <summary>Booking the flight: by default it is refused for good.</summary>
    public Func<int, CancellationToken, Task<string>> BookFlight { get; set; } = (_, _) => throw new InvalidOperationException("no seats left");

    /// <summary>How many times the refund fails before it works.</summary>
    public int RefundFailures { get; set; }

    /// <summary>Renting the car (in <see cref="Getaway"/>) ends when this does.</summary>
    public TaskCompletionSource CarRental { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Record(string call)
    {
        var step = StepContext.Current!;
        _calls.Enqueue(call);
        Keys.Enqueue(step.IdempotencyKey);
        StepKeys.Enqueue(step.StepIdempotencyKey);
    }
}

/// <summary>
/// Reserve a hotel, charge the card, book the flight; each undone by its compensation. The flight is not retried on a
/// refusal or a timeout (which compensate) but is on a TimeoutException (which, exhausted, parks the run).
/// </summary>
[DurableWorkflow]
internal partial class Trip(TripLog log)
{
    [WorkflowRun]
    public async Task<string> RunAsync(string traveller)
    {
        var hotel = await ReserveHotel(traveller);
        await ChargeCard(traveller, 120m);
        var flight = await BookFlight(traveller);
        return $"{hotel}, {flight}";
    }

    [Step(Compensate = nameof(CancelHotel))]
    private Task<string> ReserveHotel(string traveller)
    {
        log.Record("reserve");
        return Task.FromResult($"hotel-for-{traveller}");
    }

    private Task CancelHotel(string reservation)
    {
        log.Record("cancel " + reservation);
        return Task.CompletedTask;
    }

    [Step(Compensate = nameof(Refund))]
    private Task ChargeCard(string traveller, decimal amount)
    {
        log.Record("charge");
        return Task.CompletedTask;
    }

    private Task Refund(string traveller, decimal amount, CancellationToken cancellationToken)
    {
        log.Record($"refund {amount}");
        return log.RefundFailures-- > 0 ? Task.FromException(new HttpRequestException("bank busy")) : Task.CompletedTask;
    }

    [Step(MaxAttempts = 3, InitialDelay = "0s", Timeout = "5s", DoNotRetryOn = [typeof(InvalidOperationException), typeof(StepTimeoutException)], Compensate = nameof(CancelFlight))]
    private Task<string> BookFlight(string traveller, CancellationToken cancellationToken = default)
    {
        log.Record("book");
        return log.BookFlight(StepContext.Current!.Attempt, cancellationToken);
    }

    private Task CancelFlight(string traveller)
    {
        log.Record("cancel flight");
        return Task.CompletedTask;
    }
}

/// <summary>
/// Rents a car and books a flight at the same time (Task.WhenAll); the flight is refused, so the car, still being
/// rented when the flight fails, must be waited for and returned.
/// </summary>
[DurableWorkflow(OnFailure = FailureRule.Compensate)]
internal partial class Getaway(TripLog log)
{
    [WorkflowRun]
    public async Task RunAsync(string traveller)
    {
        await Task.WhenAll(RentCar(traveller), BookFlight(traveller));
    }

    [Step(Compensate = nameof(ReturnCar))]
    private async Task<string> RentCar(string traveller)
    {
        log.Record("rent");
        await log.CarRental.Task;
        return $"car-for-{traveller}";
    }

    private Task ReturnCar(string car)
    {
        log.Record("return " + car);
        return Task.CompletedTask;
    }

    [Step(MaxAttempts = 1, Compensate = nameof(CancelFlight))]
    private Task<string> BookFlight(string traveller)
    {
        log.Record("book");
        return log.BookFlight(StepContext.Current!.Attempt, CancellationToken.None);
    }

    private Task CancelFlight(string traveller)
    {
        log.Record("cancel flight");
        return Task.CompletedTask;
    }
}

/// <summary>A workflow that parks every failure, including its run method's own: "bad" orders are refused by the run method.</summary>
[DurableWorkflow(OnFailure = FailureRule.Park)]
internal partial class Strict(TripLog log)
{
    [WorkflowRun]
    public async Task<string> RunAsync(string order)
    {
        var checkedOrder = await Check(order);
        return checkedOrder == "bad" ? throw new InvalidOperationException($"order '{order}' is refused") : checkedOrder;
    }

    [Step]
    private Task<string> Check(string order)
    {
        log.Record("check " + order);
        return Task.FromResult(order);
    }
}

/// <summary>The payment API's answer.</summary>
internal sealed record Charge(string Id, decimal Amount);

/// <summary>
/// Charges a card through an HTTP API, passing the step's idempotency key as the <c>Idempotency-Key</c> header: the
/// example of docs/idempotency-keys.md.
/// </summary>
[DurableWorkflow]
internal partial class HttpCheckout(HttpClient http)
{
    [WorkflowRun]
    public async Task<string> RunAsync(decimal amount) => (await ChargeCard(amount)).Id;

    [Step(MaxAttempts = 3, InitialDelay = "0s")]
    private async Task<Charge> ChargeCard(decimal amount, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "charges")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { amount }),
        };
        // The same key on every attempt, replay and worker: the API charges once however often this body runs.
        request.Headers.Add("Idempotency-Key", StepContext.Current!.IdempotencyKey);
        using var response = await http.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
        return (await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<Charge>(response.Content, cancellationToken))!;
    }
}

/// <summary>What <see cref="Ledger"/>'s step does after its insert, before it returns; and which attempts fail there.</summary>
internal sealed class LedgerScript
{
    public Func<int, CancellationToken, Task> AfterInsert { get; set; } = (_, _) => Task.CompletedTask;
}

/// <summary>
/// Books a ledger entry with a transactional step: the row it inserts, through the step's own transaction, commits with
/// the step's journal row or not at all.
/// </summary>
[DurableWorkflow]
internal partial class Ledger(LedgerScript script)
{
    [WorkflowRun]
    public async Task<int> RunAsync(string entry) => await Book(entry);

    [Step(Transactional = true, MaxAttempts = 3, InitialDelay = "0s")]
    private async Task<int> Book(string entry, CancellationToken cancellationToken = default)
    {
        var step = StepContext.Current!;
        var db = step.GetPostgresTransaction();
        await using (var insert = new Npgsql.NpgsqlCommand("INSERT INTO ledger_rows (entry, idempotency_key, attempt) VALUES (@entry, @key, @attempt)", db.Connection, db.Transaction))
        {
            insert.Parameters.AddWithValue("entry", entry);
            insert.Parameters.AddWithValue("key", step.IdempotencyKey);
            insert.Parameters.AddWithValue("attempt", step.Attempt);
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await script.AfterInsert(step.Attempt, cancellationToken);
        return step.Attempt;
    }
}
