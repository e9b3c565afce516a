using System.Collections.Concurrent;

namespace Durably.Runtime.Tests.Support;

// Workflows that roll back: compensations, failure rules and dead letters.

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
