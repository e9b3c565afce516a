using Durably.Runtime.Journal;
using Durably.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime.Tests.Replay;

/// <summary>
/// The failure rule and compensation, run unchanged on every store: a failure the policy does not retry rolls back the
/// completed steps in reverse completion order (each journaled on its own row and retried) and ends the run Failed;
/// retries that ran out park it with nothing compensated; a cancel rolls back after the attempt in flight settles; a
/// timed-out step (outcome unknown) is compensated; a compensation that keeps failing parks the run.
/// </summary>
public abstract class CompensationTests : StoreTestBase
{
    private readonly TripLog _log = new();

    private TestHost Host(string workerName = "compensation-worker") => Track(new TestHost(
        OpenStore(), d => d.AddWorkflow<Trip>().AddWorkflow<Getaway>(),
        s => s.AddSingleton<TimeProvider>(Clock).AddSingleton(_log),
        workerName,
        o =>
        {
            o.UnloadThreshold = Timeout.InfiniteTimeSpan;
            o.CompensationRetryPolicy = new RetryPolicy { MaxAttempts = 3, InitialDelay = TimeSpan.Zero, Jitter = 0 };
        }));

    [Fact]
    public async Task A_failure_the_policy_does_not_retry_compensates_completed_steps_in_reverse_order_and_ends_failed()
    {
        _log.RefundFailures = 1;
        var host = Host();
        await host.Get<TripClient>().StartAsync("ada", "trip-1");

        var result = await host.Engine.ExecuteAsync("trip-1").WaitAsync(Wait.Timeout);

        Assert.Equal(WorkflowStatus.Failed, result.Status);
        Assert.Contains("no seats left", result.Error!.Message, StringComparison.Ordinal);
        // The refused flight is known not to be booked: only the hotel and the charge are undone, the charge first.
        Assert.Equal(["reserve", "charge", "book", "refund 120", "refund 120", "cancel hotel-for-ada"], _log.Calls);
        Assert.Equal(["trip-1/ChargeCard/1/compensate", "trip-1/ReserveHotel/0/compensate"], _log.Keys.Skip(3).Distinct());
        // A compensation also knows the key its step was given, to ask the other side to undo what that key did.
        Assert.Equal(["trip-1/ChargeCard/1", "trip-1/ReserveHotel/0"], _log.StepKeys.Skip(3).Distinct());
        Assert.Equal(_log.Keys.Take(3), _log.StepKeys.Take(3));
        var journal = (await host.Store.LoadAsync("trip-1", default))!.Journal.ToDictionary(e => e.Sequence);
        Assert.Equal((OperationKind.Compensation, JournalEntryState.Completed, "ChargeCard", 2), (journal[-2].Kind, journal[-2].State, journal[-2].OperationId, journal[-2].Attempts));
        Assert.Equal((OperationKind.Compensation, JournalEntryState.Completed, "ReserveHotel", 1), (journal[-1].Kind, journal[-1].State, journal[-1].OperationId, journal[-1].Attempts));
        Assert.False(journal.ContainsKey(-3));

        // The rollback is journaled: replaying the finished run on another worker compensates nothing again.
        var details = await host.Client.GetRunDetailsAsync("trip-1");
        Assert.Equal(2, details!.Operations.Count(o => o.Kind == WorkflowOperationKind.Compensation));
    }

    [Fact]
    public async Task Retries_that_run_out_park_the_run_with_nothing_compensated()
    {
        _log.BookFlight = (attempt, _) => throw new TimeoutException($"airline slow on attempt {attempt}");
        var host = Host();
        await host.Get<TripClient>().StartAsync("bob", "trip-2");

        var result = await host.Engine.ExecuteAsync("trip-2").WaitAsync(Wait.Timeout);

        Assert.Equal(WorkflowStatus.DeadLettered, result.Status);
        Assert.Contains("airline slow on attempt 3", result.Error!.Message, StringComparison.Ordinal);
        Assert.Equal(["reserve", "charge", "book", "book", "book"], _log.Calls);
        Assert.DoesNotContain((await host.Store.LoadAsync("trip-2", default))!.Journal, e => e.Kind == OperationKind.Compensation);
    }

    [Fact]
    public async Task A_timed_out_step_has_an_unknown_outcome_and_is_compensated_too()
    {
        _log.BookFlight = async (_, token) =>
        {
            await Task.Delay(Timeout.Infinite, token);
            return "never";
        };
        var host = Host();
        await host.Get<TripClient>().StartAsync("cy", "trip-3");
        var execution = host.Engine.ExecuteAsync("trip-3");
        await Wait.UntilAsync(() => Task.FromResult(_log.Calls.Contains("book")), "the flight was never booked");

        Clock.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(WorkflowStatus.Failed, (await execution.WaitAsync(Wait.Timeout)).Status);
        Assert.Equal(["reserve", "charge", "book", "cancel flight", "refund 120", "cancel hotel-for-cy"], _log.Calls);
    }

    [Fact]
    public async Task A_cancel_compensates_what_completed_once_the_step_in_flight_has_settled()
    {
        var booking = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _log.BookFlight = async (_, token) =>
        {
            booking.TrySetResult();
            await Task.Delay(Timeout.Infinite, token);
            return "never";
        };
        var host = Host();
        await host.Get<TripClient>().StartAsync("dee", "trip-4");
        var execution = host.Engine.ExecuteAsync("trip-4");
        await booking.Task.WaitAsync(Wait.Timeout);

        Assert.Equal(CancelResult.Requested, await host.Client.CancelAsync("trip-4", "plans changed"));

        var result = await execution.WaitAsync(Wait.Timeout);
        Assert.Equal(WorkflowStatus.Cancelled, result.Status);
        Assert.Equal("plans changed", result.Error!.Message);
        // The flight's body saw its token fire and ended: a known failure, not compensated.
        Assert.Equal(["reserve", "charge", "book", "refund 120", "cancel hotel-for-dee"], _log.Calls);
        var flight = (await host.Store.LoadAsync("trip-4", default))!.Journal.Single(e => e.Sequence == 2);
        Assert.Equal(JournalEntryState.Failed, flight.State);
    }

    [Fact]
    public async Task A_sibling_step_still_running_when_another_fails_is_waited_for_and_then_compensated()
    {
        var host = Host();
        await host.Get<GetawayClient>().StartAsync("fay", "trip-6");
        var execution = host.Engine.ExecuteAsync("trip-6");
        await Wait.UntilAsync(async () => (await host.Store.LoadAsync("trip-6", default))!.Journal.Any(e => e.OperationId == "BookFlight" && e.State == JournalEntryState.Failed), "the flight's failure was never journaled");

        // The flight failed for good, but the car is still being rented: nothing is rolled back, nothing ends (and the
        // undo order below proves the rollback waited for the rental).
        await Wait.UntilAsync(() => _log.Calls.Contains("rent"), "the car rental never started");
        Assert.False(execution.IsCompleted);
        Assert.Equal(["book", "rent"], _log.Calls.Order());
        Assert.DoesNotContain((await host.Store.LoadAsync("trip-6", default))!.Journal, e => e.Kind == OperationKind.Compensation);

        _log.CarRental.SetResult();

        var result = await execution.WaitAsync(Wait.Timeout);
        Assert.Equal(WorkflowStatus.Failed, result.Status);
        Assert.Contains("no seats left", result.Error!.Message, StringComparison.Ordinal);
        // The rental that finished after the failure is journaled Completed and undone; the refused flight is not.
        Assert.Equal("return car-for-fay", _log.Calls[^1]);
        Assert.Equal(3, _log.Calls.Count);
        var journal = (await host.Store.LoadAsync("trip-6", default))!.Journal;
        var rental = journal.Single(e => e.OperationId == "RentCar" && e.Kind == OperationKind.Step);
        Assert.Equal(JournalEntryState.Completed, rental.State);
        Assert.Equal(JournalEntryState.Completed, journal.Single(e => e.Sequence == JournalEntry.CompensationSequenceOf(rental.Sequence)).State);
        Assert.Single(journal, e => e.Kind == OperationKind.Compensation);
    }

    [Fact]
    public async Task A_compensation_that_keeps_failing_parks_the_run_and_says_which()
    {
        _log.RefundFailures = int.MaxValue;
        var host = Host();
        await host.Get<TripClient>().StartAsync("eve", "trip-5");

        var result = await host.Engine.ExecuteAsync("trip-5").WaitAsync(Wait.Timeout);

        Assert.Equal(WorkflowStatus.DeadLettered, result.Status);
        Assert.Equal("Durably.CompensationFailedException", result.Error!.Type);
        Assert.StartsWith("The compensation 'Refund' of step 'ChargeCard' (sequence 1) of run 'trip-5'", result.Error.Message, StringComparison.Ordinal);
        Assert.Contains("System.Net.Http.HttpRequestException: bank busy", result.Error.Message, StringComparison.Ordinal);
        // Three attempts, then nothing further: the hotel is left for the operator, not undone behind their back.
        Assert.Equal(["reserve", "charge", "book", "refund 120", "refund 120", "refund 120"], _log.Calls);
    }
}

public sealed class InMemoryCompensationTests : CompensationTests
{
    private protected override TestStorage CreateStorage() => TestStorage.InMemory(Clock);
}

public sealed class SqliteCompensationTests : CompensationTests
{
    private protected override TestStorage CreateStorage() => TestStorage.Sqlite(Clock);
}

public sealed class PostgresCompensationTests(PostgresDatabase database) : CompensationTests, IClassFixture<PostgresDatabase>
{
    private protected override TestStorage CreateStorage() => TestStorage.Postgres(database, Clock, "compensation");
}
