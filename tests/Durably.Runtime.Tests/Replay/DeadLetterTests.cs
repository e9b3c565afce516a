using Durably.Runtime.Journal;
using Durably.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime.Tests.Replay;

/// <summary>
/// Dead letters from the client, unchanged on every store: a parked run is listed and inspected (reason, failed step or
/// compensation, attempts, error); a retry gives the failed operation a fresh attempt budget under the same idempotency
/// key and resumes the run without repeating completed steps; a discard compensates and ends it cancelled; neither is
/// allowed on a run that is not parked, and nothing is ever deleted.
/// </summary>
public abstract class DeadLetterTests : StoreTestBase
{
    private readonly TripLog _log = new();

    private TestHost Host() => Track(new TestHost(
        OpenStore(), d => d.AddWorkflow<Trip>().AddWorkflow<Strict>(),
        s => s.AddSingleton<TimeProvider>(Clock).AddSingleton(_log),
        "dead-letter-worker",
        o =>
        {
            o.UnloadThreshold = Timeout.InfiniteTimeSpan;
            o.CompensationRetryPolicy = new RetryPolicy { MaxAttempts = 3, InitialDelay = TimeSpan.Zero, Jitter = 0 };
        }));

    private void AirlineDown() => _log.BookFlight = (attempt, _) => throw new TimeoutException($"airline slow on attempt {attempt}");

    private void AirlineUp() => _log.BookFlight = (attempt, _) => Task.FromResult($"flight on attempt {attempt}");

    private async Task<TestHost> ParkedTripAsync(string id)
    {
        AirlineDown();
        var host = Host();
        await host.Get<TripClient>().StartAsync("ada", id);
        Assert.Equal(WorkflowStatus.DeadLettered, (await host.Engine.ExecuteAsync(id).WaitAsync(Wait.Timeout)).Status);
        return host;
    }

    [Fact]
    public async Task A_parked_run_is_listed_and_inspected_with_its_reason_step_attempts_and_error()
    {
        var host = await ParkedTripAsync("trip-1");
        _log.BookFlight = (_, _) => throw new InvalidOperationException("no seats left");
        await host.Get<TripClient>().StartAsync("bob", "trip-2");
        Assert.Equal(WorkflowStatus.Failed, (await host.Engine.ExecuteAsync("trip-2").WaitAsync(Wait.Timeout)).Status);

        var letter = await host.Client.GetDeadLetterAsync("trip-1");

        Assert.NotNull(letter);
        Assert.Equal(("trip-1", "Trip", WorkflowStatus.DeadLettered), (letter.WorkflowId, letter.Run.WorkflowName, letter.Run.Status));
        Assert.Equal(DeadLetterReason.StepFailed, letter.Reason);
        Assert.Contains("airline slow on attempt 3", letter.Run.Error!.Message, StringComparison.Ordinal);
        var failed = letter.FailedOperation!;
        Assert.Equal(("BookFlight", 2L, WorkflowOperationKind.Step, WorkflowOperationState.Failed, 3), (failed.Name, failed.Sequence, failed.Kind, failed.State, failed.Attempts));
        Assert.Equal(new WorkflowError("System.TimeoutException", "airline slow on attempt 3"), failed.Error);
        Assert.Equal(Clock.GetUtcNow(), letter.DeadLetteredAt);

        // The failed (compensated) trip is no dead letter; listing filters by workflow and pages like ListRunsAsync.
        Assert.Null(await host.Client.GetDeadLetterAsync("trip-2"));
        Assert.Null(await host.Client.GetDeadLetterAsync("no-such-trip"));
        var page = await host.Client.ListDeadLettersAsync();
        Assert.Equal(["trip-1"], page.DeadLetters.Select(d => d.WorkflowId));
        Assert.Null(page.NextPageToken);
        Assert.Empty((await host.Client.ListDeadLettersAsync(new WorkflowRunQuery { WorkflowName = "Strict" })).DeadLetters);
        Assert.Equal(letter, (await host.Client.ListDeadLettersAsync(new WorkflowRunQuery { Status = WorkflowStatus.DeadLettered, PageSize = 1 })).DeadLetters.Single());
    }

    [Fact]
    public async Task A_retry_gives_the_failed_step_a_fresh_budget_under_the_same_key_and_resumes_without_repeating_completed_steps()
    {
        var host = await ParkedTripAsync("trip-3");

        // Retried while the airline is still down: three more attempts, numbered from 1 again, then parked again.
        await host.Client.RetryDeadLetterAsync("trip-3");
        Assert.Equal(WorkflowStatus.Running, (await host.Client.GetRunAsync("trip-3"))!.Status);
        Assert.Null(await host.Client.GetDeadLetterAsync("trip-3"));
        Assert.Empty((await host.Client.ListDeadLettersAsync()).DeadLetters);
        Assert.Equal(WorkflowStatus.DeadLettered, (await host.Engine.ExecuteAsync("trip-3").WaitAsync(Wait.Timeout)).Status);
        Assert.Equal(3, (await host.Client.GetDeadLetterAsync("trip-3"))!.FailedOperation!.Attempts);

        // Retried once it is back: the flight is booked at its first fresh attempt, the hotel and card are not redone.
        AirlineUp();
        await host.Client.RetryDeadLetterAsync("trip-3");
        var result = await host.Engine.ExecuteAsync("trip-3").WaitAsync(Wait.Timeout);

        Assert.Equal(WorkflowStatus.Completed, result.Status);
        Assert.Equal("hotel-for-ada, flight on attempt 1", await host.Client.WaitForResultAsync<string>("trip-3"));
        Assert.Equal(["reserve", "charge", "book", "book", "book", "book", "book", "book", "book"], _log.Calls);
        Assert.Equal(["trip-3/BookFlight/2"], _log.Keys.Skip(2).Distinct());
        var journal = (await host.Store.LoadAsync("trip-3", default))!.Journal.ToDictionary(e => e.Sequence);
        Assert.Equal((JournalEntryState.Completed, 1, null), (journal[2].State, journal[2].Attempts, journal[2].Error));
        Assert.Equal((JournalEntryState.Completed, 1), (journal[0].State, journal[0].Attempts));
        Assert.DoesNotContain(journal.Values, e => e.Kind == OperationKind.Compensation);

        var again = await Assert.ThrowsAsync<WorkflowNotDeadLetteredException>(() => host.Client.RetryDeadLetterAsync("trip-3"));
        Assert.Equal(WorkflowStatus.Completed, again.Status);
        Assert.Equal("Run 'trip-3' is Completed, not DeadLettered; only a dead-lettered run can be retried. Nothing changed.", again.Message);
    }

    [Fact]
    public async Task A_discard_compensates_what_the_parked_run_completed_and_ends_it_cancelled_keeping_its_journal()
    {
        var host = await ParkedTripAsync("trip-4");

        await host.Client.DiscardDeadLetterAsync("trip-4", "customer gave up");
        var result = await host.Engine.ExecuteAsync("trip-4").WaitAsync(Wait.Timeout);

        Assert.Equal(WorkflowStatus.Cancelled, result.Status);
        var ended = await Assert.ThrowsAsync<WorkflowFailedException>(() => host.Client.WaitForResultAsync<string>("trip-4"));
        Assert.Equal((WorkflowStatus.Cancelled, "customer gave up"), (ended.Status, ended.Error!.Message));
        // The flight failed (known outcome): not compensated; the charge and the hotel are, newest first.
        Assert.Equal(["reserve", "charge", "book", "book", "book", "refund 120", "cancel hotel-for-ada"], _log.Calls);
        var journal = (await host.Store.LoadAsync("trip-4", default))!.Journal;
        Assert.Equal(5, journal.Count);
        Assert.Equal((JournalEntryState.Failed, 3), journal.Where(e => e.Sequence == 2).Select(e => (e.State, e.Attempts)).Single());
        await Assert.ThrowsAsync<WorkflowNotDeadLetteredException>(() => host.Client.DiscardDeadLetterAsync("trip-4"));
    }

    [Fact]
    public async Task A_compensation_that_parked_the_run_is_retried_with_a_fresh_budget_and_the_rollback_finishes()
    {
        _log.RefundFailures = 3;
        var host = Host();
        await host.Get<TripClient>().StartAsync("cy", "trip-5");
        Assert.Equal(WorkflowStatus.DeadLettered, (await host.Engine.ExecuteAsync("trip-5").WaitAsync(Wait.Timeout)).Status);

        var letter = (await host.Client.GetDeadLetterAsync("trip-5"))!;
        Assert.Equal(DeadLetterReason.CompensationFailed, letter.Reason);
        var failed = letter.FailedOperation!;
        Assert.Equal(("ChargeCard", -2L, WorkflowOperationKind.Compensation, WorkflowOperationState.Failed, 3), (failed.Name, failed.Sequence, failed.Kind, failed.State, failed.Attempts));
        Assert.Equal("System.Net.Http.HttpRequestException", failed.Error!.Type);

        await host.Client.RetryDeadLetterAsync("trip-5");
        var result = await host.Engine.ExecuteAsync("trip-5").WaitAsync(Wait.Timeout);

        // The rollback picks up at the refund (its fourth call, first of the fresh budget) and ends as it would have.
        Assert.Equal(WorkflowStatus.Failed, result.Status);
        Assert.Contains("no seats left", result.Error!.Message, StringComparison.Ordinal);
        Assert.Equal(["reserve", "charge", "book", "refund 120", "refund 120", "refund 120", "refund 120", "cancel hotel-for-cy"], _log.Calls);
        var journal = (await host.Store.LoadAsync("trip-5", default))!.Journal.ToDictionary(e => e.Sequence);
        Assert.Equal((JournalEntryState.Completed, 1), (journal[-2].State, journal[-2].Attempts));
        Assert.Equal((JournalEntryState.Completed, 1), (journal[-1].State, journal[-1].Attempts));
    }

    [Fact]
    public async Task Discarding_a_run_whose_compensation_failed_retries_that_compensation_and_ends_it_cancelled()
    {
        _log.RefundFailures = 3;
        var host = Host();
        await host.Get<TripClient>().StartAsync("dee", "trip-6");
        Assert.Equal(WorkflowStatus.DeadLettered, (await host.Engine.ExecuteAsync("trip-6").WaitAsync(Wait.Timeout)).Status);

        await host.Client.DiscardDeadLetterAsync("trip-6");
        var result = await host.Engine.ExecuteAsync("trip-6").WaitAsync(Wait.Timeout);

        Assert.Equal(WorkflowStatus.Cancelled, result.Status);
        Assert.Equal("Discarded from the dead letters; no reason was given.", result.Error!.Message);
        Assert.Equal(["refund 120", "cancel hotel-for-dee"], _log.Calls.Skip(6));
    }

    [Fact]
    public async Task A_run_method_s_own_failure_parked_by_the_rule_has_no_failed_operation_and_a_retry_replays_it()
    {
        var host = Host();
        await host.Get<StrictClient>().StartAsync("bad", "order-1");
        Assert.Equal(WorkflowStatus.DeadLettered, (await host.Engine.ExecuteAsync("order-1").WaitAsync(Wait.Timeout)).Status);

        var letter = (await host.Client.GetDeadLetterAsync("order-1"))!;
        Assert.Equal((DeadLetterReason.RunFailed, null), (letter.Reason, letter.FailedOperation));
        Assert.Equal(new WorkflowError("System.InvalidOperationException", "order 'bad' is refused"), letter.Run.Error);

        // Nothing to reset: the run replays (the step is not run again) and, the code being the same, is parked again.
        await host.Client.RetryDeadLetterAsync("order-1");
        Assert.Equal(WorkflowStatus.DeadLettered, (await host.Engine.ExecuteAsync("order-1").WaitAsync(Wait.Timeout)).Status);
        Assert.Equal(["check bad"], _log.Calls);
    }

    [Theory]
    [InlineData(99)]
    [InlineData(-3)]
    public async Task A_journal_row_of_an_unknown_kind_parks_the_run_as_an_unreadable_row_not_as_non_determinism(int kind)
    {
        var host = Host();
        await host.Get<StrictClient>().StartAsync("fine", "order-2");
        // The row of step Check, damaged: a kind no version of Durably writes.
        var lease = (await host.Store.TryClaimAsync("order-2", "editor", TimeSpan.FromMinutes(1), default))!;
        var row = JournalEntry.Attempting("order-2", 0, "Check", (OperationKind)kind, "{\"order\":\"fine\"}", Clock.GetUtcNow()) with { Attempts = 1 };
        await host.Store.RecordAttemptAsync(lease, row, JournalDurability.Durable, default);
        await host.Store.CompleteEntryAsync(lease, row with { State = JournalEntryState.Completed, OutputJson = "\"fine\"", CompletionIndex = 0, CompletedAt = Clock.GetUtcNow() }, default);
        await host.Store.ReleaseAsync(lease, default);

        Assert.Equal(WorkflowStatus.DeadLettered, (await host.Engine.ExecuteAsync("order-2").WaitAsync(Wait.Timeout)).Status);

        var letter = (await host.Client.GetDeadLetterAsync("order-2"))!;
        Assert.Equal(DeadLetterReason.UnreadableJournalRow, letter.Reason);
        Assert.Equal(typeof(UnreadableJournalException).FullName, letter.Run.Error!.Type);
        Assert.Contains("cannot be read at sequence 0 (operation 'Check')", letter.Run.Error.Message, StringComparison.Ordinal);
        Assert.Contains($"its kind is {kind}, which is no operation kind", letter.Run.Error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("non-determinism", letter.Run.Error.Message, StringComparison.OrdinalIgnoreCase);

        // A retry does not repair a damaged row: the run is parked again, for the same reason, and nothing ran.
        await host.Client.RetryDeadLetterAsync("order-2");
        Assert.Equal(WorkflowStatus.DeadLettered, (await host.Engine.ExecuteAsync("order-2").WaitAsync(Wait.Timeout)).Status);
        Assert.Equal(DeadLetterReason.UnreadableJournalRow, (await host.Client.GetDeadLetterAsync("order-2"))!.Reason);
        Assert.Empty(_log.Calls);
    }

    [Fact]
    public async Task Dead_letter_operations_refuse_runs_that_are_not_parked_and_bad_input_naming_the_problem()
    {
        var host = await ParkedTripAsync("trip-7");
        await host.Get<TripClient>().StartAsync("eve", "trip-8");

        var running = await Assert.ThrowsAsync<WorkflowNotDeadLetteredException>(() => host.Client.RetryDeadLetterAsync("trip-8"));
        Assert.Equal(("trip-8", WorkflowStatus.Running), (running.WorkflowId, running.Status));
        Assert.Equal("Run 'trip-8' is Running, not DeadLettered; only a dead-lettered run can be discarded. Nothing changed.",
            (await Assert.ThrowsAsync<WorkflowNotDeadLetteredException>(() => host.Client.DiscardDeadLetterAsync("trip-8"))).Message);
        Assert.Equal("nowhere", (await Assert.ThrowsAsync<WorkflowNotFoundException>(() => host.Client.RetryDeadLetterAsync("nowhere"))).WorkflowId);
        await Assert.ThrowsAsync<WorkflowNotFoundException>(() => host.Client.DiscardDeadLetterAsync("nowhere"));

        // Malformed ids and reasons are refused before the store is touched; the parked run stays parked.
        foreach (var id in new[] { "", "line\nbreak", new string('x', 300) })
        {
            await Assert.ThrowsAnyAsync<ArgumentException>(() => host.Client.RetryDeadLetterAsync(id));
            await Assert.ThrowsAnyAsync<ArgumentException>(() => host.Client.GetDeadLetterAsync(id));
        }

        var tooLong = await Assert.ThrowsAsync<ArgumentException>(() => host.Client.DiscardDeadLetterAsync("trip-7", new string('r', DurableOptions.MaxCancelReasonLength + 1)));
        Assert.Contains($"is {DurableOptions.MaxCancelReasonLength + 1} characters long", tooLong.Message, StringComparison.Ordinal);
        var nul = await Assert.ThrowsAsync<ArgumentException>(() => host.Client.DiscardDeadLetterAsync("trip-7", "gave\0up"));
        Assert.Contains("U+0000 at position 4", nul.Message, StringComparison.Ordinal);
        var status = await Assert.ThrowsAsync<ArgumentException>(() => host.Client.ListDeadLettersAsync(new WorkflowRunQuery { Status = WorkflowStatus.Completed }));
        Assert.Contains("must be unset or DeadLettered, not Completed", status.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => host.Client.ListDeadLettersAsync(new WorkflowRunQuery { PageSize = 0 }));
        Assert.Equal(WorkflowStatus.DeadLettered, (await host.Client.GetRunAsync("trip-7"))!.Status);

        // A reason at the limit is kept whole.
        var longest = new string('r', DurableOptions.MaxCancelReasonLength);
        await host.Client.DiscardDeadLetterAsync("trip-7", longest);
        Assert.Equal(longest, (await host.Engine.ExecuteAsync("trip-7").WaitAsync(Wait.Timeout)).Error!.Message);
    }

    [Fact]
    public async Task Operators_racing_on_one_dead_letter_revive_it_once()
    {
        var host = await ParkedTripAsync("trip-9");

        var attempts = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            try
            {
                await (i % 2 == 0 ? host.Client.RetryDeadLetterAsync("trip-9") : host.Client.DiscardDeadLetterAsync("trip-9", "operator " + i));
                return true;
            }
            catch (WorkflowNotDeadLetteredException ex) when (ex.Status == WorkflowStatus.Running)
            {
                return false;
            }
        })));

        Assert.Single(attempts, won => won);
        Assert.Equal(WorkflowStatus.Running, (await host.Client.GetRunAsync("trip-9"))!.Status);
    }
}

public sealed class InMemoryDeadLetterTests : DeadLetterTests
{
    private protected override TestStorage CreateStorage() => TestStorage.InMemory(Clock);
}

public sealed class SqliteDeadLetterTests : DeadLetterTests
{
    private protected override TestStorage CreateStorage() => TestStorage.Sqlite(Clock);
}

public sealed class PostgresDeadLetterTests(PostgresDatabase database) : DeadLetterTests, IClassFixture<PostgresDatabase>
{
    private protected override TestStorage CreateStorage() => TestStorage.Postgres(database, Clock, "deadletter");
}
