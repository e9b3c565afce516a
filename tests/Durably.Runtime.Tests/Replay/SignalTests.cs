using Durably.Runtime.Journal;
using Durably.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime.Tests.Replay;

/// <summary>
/// Signal waits, run unchanged on every store: a signal sent early is kept; each signal goes to exactly one wait;
/// a resend with the same id is ignored; a timeout is an outcome; the deadline survives a restart; a signal sent through
/// another process is found; and bad sends are refused naming the problem.
/// </summary>
public abstract class SignalTests : StoreTestBase
{

    // These tests drive executions by hand and watch waits in memory; unloaded waits are UnloadTests' subject.
    private TestHost Host(string worker = "signal-worker", Action<DurableOptions>? options = null)
    {
        var host = new TestHost(OpenStore(), d => d.AddWorkflow<ApprovalFlow>().AddWorkflow<TypedApproval>(), s => s.AddSingleton<TimeProvider>(Clock).AddSingleton(new BodyLog()),
            workerName: worker, options: o =>
            {
                o.UnloadThreshold = Timeout.InfiniteTimeSpan;
                options?.Invoke(o);
            });
        return Track(host);
    }

    [Fact]
    public async Task Signals_sent_before_the_run_waits_are_kept_and_each_goes_to_exactly_one_wait_once()
    {
        var host = Host();
        await host.Get<ApprovalFlowClient>().StartAsync("order-1", "early-1");

        Assert.True(await host.Client.SignalAsync("early-1", "approve", new Decision("ada", true), "s-1"));
        Assert.False(await host.Client.SignalAsync("early-1", "approve", new Decision("eve", false), "s-1"));
        Assert.True(await host.Client.SignalAsync("early-1", "approve", new Decision("bob", false), "s-2"));
        Assert.True(await host.Client.SignalAsync("early-1", "approve", new Decision("cid", true), "s-3"));
        var result = await host.Engine.ExecuteAsync("early-1").WaitAsync(Wait.Timeout);

        Assert.Equal(WorkflowStatus.Completed, result.Status);
        Assert.Equal("ada:True|bob:False", await host.Client.WaitForResultAsync<string>("early-1"));
        var journal = (await host.Store.LoadAsync("early-1", default))!.Journal;
        Assert.Equal([OperationKind.Step, OperationKind.Signal, OperationKind.Signal], journal.Select(e => e.Kind));
        Assert.Equal(["Request", "approve", "approve"], journal.Select(e => e.OperationId));
    }

    [Fact]
    public async Task The_generated_client_sends_a_declared_signal_by_its_type()
    {
        var host = Host();
        var client = host.Get<TypedApprovalClient>();
        await client.StartAsync("order-9", "typed-1");

        Assert.True(await client.SignalApprovalAsync("typed-1", new Decision("ada", true), "approval-1"));
        Assert.False(await client.SignalApprovalAsync("typed-1", new Decision("ada", true), "approval-1"));

        Assert.Equal(WorkflowStatus.Completed, (await host.Engine.ExecuteAsync("typed-1").WaitAsync(Wait.Timeout)).Status);
        Assert.Equal("order-9 ada:True", await client.GetHandle("typed-1").WaitForResultAsync());
        Assert.Equal("approve", (await host.Store.LoadAsync("typed-1", default))!.Journal.Single().OperationId);

        // The workflow declares its signals, so a name it does not declare is refused at the sender, naming both.
        await client.StartAsync("order-10", "typed-2");
        var unknown = await Assert.ThrowsAsync<ArgumentException>(() => host.Client.SignalAsync("typed-2", "aprove", new Decision("ada", true)));
        Assert.Contains("workflow 'TypedApproval' v1, which has no signal 'aprove'; it declares 'approve'", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_waiting_run_is_woken_by_a_signal_and_a_timeout_is_an_outcome()
    {
        var host = Host();
        await host.Get<ApprovalFlowClient>().StartAsync("order-1", "wake-1");
        var execution = host.Engine.ExecuteAsync("wake-1");
        await PendingWaitAsync(host.Store, "wake-1", sequence: 1);

        // A minute before its deadline the wait looks for signals again (its next look armed) instead of timing out.
        Clock.Advance(TimeSpan.FromMinutes(59));
        await Clock.ArmedForAsync(Clock.GetUtcNow() + DurableOptions.DefaultPollInterval);
        Assert.False(execution.IsCompleted);
        Assert.Equal(JournalEntryState.Attempting, (await host.Store.LoadAsync("wake-1", default))!.Journal[1].State);
        Clock.Advance(TimeSpan.FromMinutes(1));
        await PendingWaitAsync(host.Store, "wake-1", sequence: 2);
        await host.Client.SignalAsync("wake-1", "approve", new Decision("ada", true));

        Assert.Equal(WorkflowStatus.Completed, (await execution.WaitAsync(Wait.Timeout)).Status);
        Assert.Equal("timed out|ada:True", await host.Client.WaitForResultAsync<string>("wake-1"));
        var journal = (await host.Store.LoadAsync("wake-1", default))!.Journal;
        Assert.Null(journal[1].OutputJson);
        Assert.Equal(Clock.GetUtcNow(), journal[2].CompletedAt);
    }

    [Fact]
    public async Task A_restart_keeps_the_journaled_deadline_and_replay_takes_no_new_signal()
    {
        var first = Host("first");
        await first.Get<ApprovalFlowClient>().StartAsync("order-1", "restart-1");
        using (var stop = new CancellationTokenSource())
        {
            var execution = first.Engine.ExecuteAsync("restart-1", stop.Token);
            await PendingWaitAsync(first.Store, "restart-1", sequence: 1);
            Clock.Advance(TimeSpan.FromMinutes(40));
            await stop.CancelAsync();
            Assert.Equal(ExecutionOutcome.Abandoned, (await execution.WaitAsync(Wait.Timeout)).Outcome);
        }

        var second = Host("second");
        var resumed = second.Engine.ExecuteAsync("restart-1");
        await Clock.ArmedForAsync(Clock.GetUtcNow() + DurableOptions.DefaultPollInterval);
        Clock.Advance(TimeSpan.FromMinutes(20));
        await PendingWaitAsync(second.Store, "restart-1", sequence: 2);
        await second.Client.SignalAsync("restart-1", "approve", new Decision("bob", true));
        Assert.Equal(WorkflowStatus.Completed, (await resumed.WaitAsync(Wait.Timeout)).Status);
        Assert.Equal("timed out|bob:True", await second.Client.WaitForResultAsync<string>("restart-1"));

        // Replayed from the journal alone (a copy with no signals at all), the run ends the same.
        var copy = await TestHost.CloneAsRunningAsync(second.Store, "restart-1");
        await using var replay = new TestHost(copy, d => d.AddWorkflow<ApprovalFlow>(), s => s.AddSingleton(new BodyLog()));
        Assert.Equal(WorkflowStatus.Completed, (await replay.Engine.ExecuteAsync("restart-1").WaitAsync(Wait.Timeout)).Status);
        Assert.Equal("timed out|bob:True", await replay.Client.WaitForResultAsync<string>("restart-1"));
    }

    [Fact]
    public async Task A_signal_sent_by_another_process_reaches_the_waiting_run()
    {
        var worker = Host("worker");
        await worker.Get<ApprovalFlowClient>().StartAsync("order-1", "remote-1");
        var execution = worker.Engine.ExecuteAsync("remote-1");
        await PendingWaitAsync(worker.Store, "remote-1", sequence: 1);
        var sender = Host("sender");

        await sender.Client.SignalAsync("remote-1", "approve", new Decision("ada", true));
        await sender.Client.SignalAsync("remote-1", "approve", new Decision("bob", true));

        // Where the store cannot announce it, the waiting run finds it at its next look (each poll interval).
        for (var i = 0; i < 100 && !execution.IsCompleted; i++)
        {
            Clock.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(20);
        }

        Assert.Equal(WorkflowStatus.Completed, (await execution.WaitAsync(Wait.Timeout)).Status);
        Assert.Equal("ada:True|bob:True", await worker.Client.WaitForResultAsync<string>("remote-1"));
    }

    [Fact]
    public async Task Bad_signals_are_refused_naming_the_problem_and_nothing_is_stored()
    {
        var host = Host(options: o => o.MaxPayloadBytes = 1024);
        await host.Get<ApprovalFlowClient>().StartAsync("order-1", "bad-1");
        var client = host.Client;

        var unknown = await Assert.ThrowsAsync<WorkflowNotFoundException>(() => client.SignalAsync("no-such-run", "approve", new Decision("ada", true)));
        var huge = await Assert.ThrowsAsync<PayloadException>(() => client.SignalAsync("bad-1", "approve", new Decision(new string('x', 10_000), true)));
        var empty = await Assert.ThrowsAsync<ArgumentException>(() => client.SignalAsync("bad-1", " ", new Decision("ada", true)));
        var control = await Assert.ThrowsAsync<ArgumentException>(() => client.SignalAsync("bad-1", "app\nrove", new Decision("ada", true)));
        var longName = await Assert.ThrowsAsync<ArgumentException>(() => client.SignalAsync("bad-1", new string('n', 300), new Decision("ada", true)));
        var longId = await Assert.ThrowsAsync<ArgumentException>(() => client.SignalAsync("bad-1", "approve", new Decision("ada", true), new string('i', 10_000)));

        Assert.Contains("no-such-run", unknown.Message, StringComparison.Ordinal);
        Assert.Contains("1024", huge.Message, StringComparison.Ordinal);
        Assert.Contains("signal 'approve'", huge.Message, StringComparison.Ordinal);
        Assert.Contains("must not be empty", empty.Message, StringComparison.Ordinal);
        Assert.Contains("control character U+000A", control.Message, StringComparison.Ordinal);
        Assert.Contains("300 characters long; the limit is 256", longName.Message, StringComparison.Ordinal);
        Assert.Contains("Signal id", longId.Message, StringComparison.Ordinal);

        // None of them was stored: the run's first wait times out.
        var execution = host.Engine.ExecuteAsync("bad-1");
        await PendingWaitAsync(host.Store, "bad-1", sequence: 1);
        Clock.Advance(TimeSpan.FromHours(1));
        await PendingWaitAsync(host.Store, "bad-1", sequence: 2);
        Clock.Advance(TimeSpan.FromHours(1));
        await execution.WaitAsync(Wait.Timeout);
        Assert.Equal("timed out|timed out", await client.WaitForResultAsync<string>("bad-1"));

        var ended = await Assert.ThrowsAsync<WorkflowNotRunningException>(() => client.SignalAsync("bad-1", "approve", new Decision("ada", true)));
        Assert.Contains("Run 'bad-1' has ended; it cannot take signal 'approve'", ended.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_untyped_signal_the_run_could_not_read_is_refused_at_send_naming_both_types_and_nothing_is_stored()
    {
        var host = Host();
        await host.Get<TypedApprovalClient>().StartAsync("order-9", "typed-9");
        var client = host.Client;
        object[] unreadable = [42, "yes", new[] { 1, 2 }, new { By = "ada", Approved = "maybe" }];

        foreach (var payload in unreadable)
        {
            var error = await Assert.ThrowsAsync<ArgumentException>(() => client.SignalAsync("typed-9", "approve", payload));
            Assert.Equal("payload", error.ParamName);
            Assert.Contains("signal 'approve' for run 'typed-9'", error.Message, StringComparison.Ordinal);
            Assert.Contains($"is a {payload.GetType().FullName?.Split('`')[0]}", error.Message, StringComparison.Ordinal);
            Assert.Contains("cannot be read as the declared Durably.Runtime.Tests.Support.Decision", error.Message, StringComparison.Ordinal);
        }

        // Nothing was stored: the run takes the one readable signal (of another type with the same shape) and finishes.
        Assert.True(await client.SignalAsync("typed-9", "approve", new { By = "bea", Approved = true }));
        await host.Engine.ExecuteAsync("typed-9").WaitAsync(Wait.Timeout);
        Assert.Equal("order-9 bea:True", await client.WaitForResultAsync<string>("typed-9"));
    }

    [Fact]
    public async Task A_signal_to_a_dead_lettered_run_is_kept_and_taken_when_the_dead_letter_is_retried()
    {
        var host = Host();
        await host.Get<TypedApprovalClient>().StartAsync("order-10", "parked-10");
        // Parked, as an operator finds it (the reason does not matter to signals).
        var lease = (await host.Store.TryClaimAsync("parked-10", "someone", TimeSpan.FromMinutes(1), default))!;
        await host.Store.CompleteRunAsync(lease, new RunOutcome(WorkflowStatus.DeadLettered, null, new WorkflowError("Durably.PayloadException", "unreadable")), default);

        Assert.True(await host.Client.SignalAsync("parked-10", "approve", new Decision("cy", true)));

        await host.Client.RetryDeadLetterAsync("parked-10");
        await host.Engine.ExecuteAsync("parked-10").WaitAsync(Wait.Timeout);
        Assert.Equal("order-10 cy:True", await host.Client.WaitForResultAsync<string>("parked-10"));
    }

    private static Task PendingWaitAsync(IWorkflowStore store, string workflowId, long sequence)
        => Wait.UntilAsync(
            async () => (await store.LoadAsync(workflowId, default))?.Journal.FirstOrDefault(e => e.Sequence == sequence && e.Kind == OperationKind.Signal),
            $"run {workflowId} never reached its wait at sequence {sequence}");
}

public sealed class InMemorySignalTests : SignalTests
{
    private protected override TestStorage CreateStorage() => TestStorage.InMemory(Clock);
}

public sealed class SqliteSignalTests : SignalTests
{
    private protected override TestStorage CreateStorage() => TestStorage.Sqlite(Clock);
}

public sealed class PostgresSignalTests(PostgresDatabase database) : SignalTests, IClassFixture<PostgresDatabase>
{
    private protected override TestStorage CreateStorage() => TestStorage.Postgres(database, Clock, "signals");
}
