using Durably.Runtime.Journal;
using Durably.Runtime.Stores;
using Durably.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime.Tests.Replay;

public class ReplayTests
{

    [Fact]
    public async Task A_run_stopped_after_three_of_five_steps_resumes_on_a_fresh_engine_without_rerunning_them()
    {
        var store = new InMemoryWorkflowStore();
        var firstLog = new BodyLog();
        var closed = new Gate();
        string workflowId;
        await using (var first = new TestHost(store, d => d.AddWorkflow<FiveSteps>(), s => s.AddSingleton(firstLog).AddSingleton(closed)))
        {
            var handle = await first.Get<FiveStepsClient>().StartAsync("order-7", "replay-1");
            workflowId = handle.WorkflowId;
            Assert.Equal(ExecutionOutcome.Abandoned, (await first.ExecuteUntilAsync(workflowId, closed)).Outcome);
        }

        var journalBefore = (await store.LoadAsync(workflowId, default))!.Journal;
        Assert.Equal([JournalEntryState.Completed, JournalEntryState.Completed, JournalEntryState.Completed, JournalEntryState.Attempting],
            journalBefore.Select(e => e.State));

        var secondLog = new BodyLog();
        await using var second = new TestHost(store, d => d.AddWorkflow<FiveSteps>(), s => s.AddSingleton(secondLog).AddSingleton(Gate.Open()), workerName: "other-worker");
        var result = await second.Engine.ExecuteAsync(workflowId).WaitAsync(Wait.Timeout);

        Assert.Equal(WorkflowStatus.Completed, result.Status);
        var output = await second.Client.WaitForResultAsync<string>(workflowId);
        var parts = output.Split('|');
        Assert.Equal(5, parts.Length);

        // Steps 1-3 ran once, on the first engine, and their journaled outputs are what the run returned.
        Assert.Equal(3, firstLog.Runs.Count(r => r.Sequence < 3));
        Assert.DoesNotContain(secondLog.Runs, r => r.Sequence < 3);
        var journal = (await store.LoadAsync(workflowId, default))!.Journal;
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(journalBefore[i].OutputJson, journal[i].OutputJson);
            Assert.Equal($"\"{parts[i]}\"", journal[i].OutputJson);
        }

        // Step 4 was cut: it ran twice, with the same idempotency key, and is journaled once.
        var fourth = firstLog.Runs.Concat(secondLog.Runs).Where(r => r.Sequence == 3).ToList();
        Assert.Equal(2, fourth.Count);
        Assert.Single(fourth.Select(r => r.IdempotencyKey).Distinct());
        Assert.Equal([1, 2], fourth.Select(r => r.Attempt));
        Assert.Equal(5, journal.Count);
        Assert.All(journal, e => Assert.Equal(JournalEntryState.Completed, e.State));
        Assert.Equal(Enumerable.Range(0, 5).Select(i => (long?)i), journal.Select(e => e.CompletionIndex));
        Assert.Contains("\"order\":\"order-7\"", journal[0].InputJson, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fan_out_and_sequential_helper_replay_identically_twenty_times()
    {
        var store = new InMemoryWorkflowStore();
        await using var live = new TestHost(store, d => d.AddWorkflow<FanOut>(), s => s.AddSingleton(new BodyLog()));
        var handle = await live.Get<FanOutClient>().StartAsync([1, 2, 3, 4, 5, 6], "fan-1");
        await live.Engine.ExecuteAsync(handle.WorkflowId).WaitAsync(Wait.Timeout);
        var liveOutput = await handle.WaitForResultAsync();
        var liveJournal = (await store.LoadAsync("fan-1", default))!.Journal;
        Assert.Equal(8, liveJournal.Count);

        for (var replay = 0; replay < 20; replay++)
        {
            var copy = await TestHost.CloneAsRunningAsync(store, "fan-1");
            var log = new BodyLog();
            await using var host = new TestHost(copy, d => d.AddWorkflow<FanOut>(), s => s.AddSingleton(log), workerName: $"replayer-{replay}");

            var result = await host.Engine.ExecuteAsync("fan-1").WaitAsync(Wait.Timeout);

            Assert.Equal(WorkflowStatus.Completed, result.Status);
            Assert.Empty(log.Runs);
            Assert.Equal(liveOutput, await host.Client.WaitForResultAsync<string>("fan-1"));
            var journal = (await copy.LoadAsync("fan-1", default))!.Journal;
            Assert.Equal(liveJournal.Select(e => (e.Sequence, e.OperationId, e.InputJson, e.OutputJson, e.CompletionIndex)),
                journal.Select(e => (e.Sequence, e.OperationId, e.InputJson, e.OutputJson, e.CompletionIndex)));
        }
    }

    [Fact]
    public async Task Swapping_two_steps_between_runs_dead_letters_the_run_naming_both_steps_and_the_sequence()
    {
        var store = new InMemoryWorkflowStore();
        var closed = new Gate();
        await using (var first = new TestHost(store, d => d.AddWorkflow<Reorderable>(), s => s.AddSingleton(new Ordering()).AddSingleton(new BodyLog()).AddSingleton(closed)))
        {
            await first.Get<ReorderableClient>().StartAsync("swap-1");
            await first.ExecuteUntilAsync("swap-1", closed);
        }

        var log = new BodyLog();
        await using var second = new TestHost(store, d => d.AddWorkflow<Reorderable>(), s => s.AddSingleton(new Ordering { Swapped = true }).AddSingleton(log).AddSingleton(Gate.Open()));
        var result = await second.Engine.ExecuteAsync("swap-1").WaitAsync(Wait.Timeout);

        Assert.Equal(WorkflowStatus.DeadLettered, result.Status);
        Assert.Equal(typeof(NonDeterminismException).FullName, result.Error!.Type);
        Assert.Contains("at sequence 0 the run method called step 'Charge', but the journal recorded step 'Reserve'", result.Error.Message, StringComparison.Ordinal);
        Assert.Contains("'Reorderable' v3", result.Error.Message, StringComparison.Ordinal);
        Assert.Empty(log.Runs);
        var failure = await Assert.ThrowsAsync<WorkflowFailedException>(() => second.Client.WaitForResultAsync<string>("swap-1"));
        Assert.Equal(WorkflowStatus.DeadLettered, failure.Status);
    }

    [Fact]
    public async Task A_journal_with_an_operation_the_code_no_longer_calls_is_dead_lettered()
    {
        var store = new InMemoryWorkflowStore();
        var closed = new Gate();
        await using (var first = new TestHost(store, d => d.AddWorkflow<FiveSteps>(), s => s.AddSingleton(new BodyLog()).AddSingleton(closed)))
        {
            await first.Get<FiveStepsClient>().StartAsync("x", "shrunk-1");
            await first.ExecuteUntilAsync("shrunk-1", closed);
        }

        // Rewrite the journal as if an older version had called a step that this code never calls.
        var lease = (await store.TryClaimAsync("shrunk-1", "editor", TimeSpan.FromMinutes(1), default))!;
        var journal = (await store.LoadAsync("shrunk-1", default))!.Journal;
        await store.RecordAttemptAsync(lease, journal[^1] with { Sequence = 7, OperationId = "Removed" }, JournalDurability.Durable, default);
        await store.ReleaseAsync(lease, default);

        var log = new BodyLog();
        await using var second = new TestHost(store, d => d.AddWorkflow<FiveSteps>(), s => s.AddSingleton(log).AddSingleton(Gate.Open()));
        var result = await second.Engine.ExecuteAsync("shrunk-1").WaitAsync(Wait.Timeout);

        Assert.Equal(WorkflowStatus.DeadLettered, result.Status);
        Assert.Contains("recorded step 'Removed' at sequence 7", result.Error!.Message, StringComparison.Ordinal);
        Assert.Empty(log.Runs);
    }

    [Fact]
    public async Task A_journal_row_that_cannot_be_read_dead_letters_the_run_naming_run_sequence_and_type()
    {
        var store = new InMemoryWorkflowStore();
        await using (var live = new TestHost(store, d => d.AddWorkflow<FiveSteps>(), s => s.AddSingleton(new BodyLog()).AddSingleton(Gate.Open())))
        {
            await live.Get<FiveStepsClient>().StartAsync("x", "unreadable-1");
            await live.Engine.ExecuteAsync("unreadable-1").WaitAsync(Wait.Timeout);
        }

        // As if the step's result type had changed incompatibly since the row was written.
        var copy = await TestHost.CloneAsRunningAsync(store, "unreadable-1", e => e.Sequence == 1 ? e with { OutputJson = "{\"total\":12}" } : e);
        var log = new BodyLog();
        await using var replay = new TestHost(copy, d => d.AddWorkflow<FiveSteps>(), s => s.AddSingleton(log).AddSingleton(Gate.Open()));

        var result = await replay.Engine.ExecuteAsync("unreadable-1").WaitAsync(Wait.Timeout);

        Assert.Equal(WorkflowStatus.DeadLettered, result.Status);
        Assert.Contains("run 'unreadable-1'", result.Error!.Message, StringComparison.Ordinal);
        Assert.Contains("at sequence 1 (step 'Work')", result.Error.Message, StringComparison.Ordinal);
        Assert.Contains("cannot be read as type 'System.String'", result.Error.Message, StringComparison.Ordinal);
        Assert.Empty(log.Runs);
    }

    [Fact]
    public async Task Step_failure_is_the_same_StepFailedException_live_and_on_replay()
    {
        var store = new InMemoryWorkflowStore();
        var log = new BodyLog();
        await using var live = new TestHost(store, d => d.AddWorkflow<Failing>(), s => s.AddSingleton(log));
        await live.Get<FailingClient>().StartAsync("fail-1");
        await live.Engine.ExecuteAsync("fail-1").WaitAsync(Wait.Timeout);
        var liveOutput = await live.Client.WaitForResultAsync<string>("fail-1");

        Assert.Equal("Explode|0|System.InvalidOperationException|boom|Step 'Explode' (sequence 0) failed: System.InvalidOperationException: boom", liveOutput);
        var row = Assert.Single((await store.LoadAsync("fail-1", default))!.Journal);
        Assert.Equal(JournalEntryState.Failed, row.State);

        var copy = await TestHost.CloneAsRunningAsync(store, "fail-1");
        var replayLog = new BodyLog();
        await using var replay = new TestHost(copy, d => d.AddWorkflow<Failing>(), s => s.AddSingleton(replayLog));
        await replay.Engine.ExecuteAsync("fail-1").WaitAsync(Wait.Timeout);

        Assert.Equal(liveOutput, await replay.Client.WaitForResultAsync<string>("fail-1"));
        Assert.Empty(replayLog.Runs);
        Assert.Single(log.Runs);
    }

    [Fact]
    public async Task A_run_method_that_throws_fails_the_run_with_its_error()
    {
        await using var host = new TestHost(new InMemoryWorkflowStore(), d => d.AddWorkflow<Throwing>());
        await host.Get<ThrowingClient>().StartAsync(10, "throw-1");

        var result = await host.Engine.ExecuteAsync("throw-1").WaitAsync(Wait.Timeout);

        Assert.Equal(WorkflowStatus.Failed, result.Status);
        Assert.Equal(typeof(ArgumentOutOfRangeException).FullName, result.Error!.Type);
        var failure = await Assert.ThrowsAsync<WorkflowFailedException>(() => host.Client.WaitForResultAsync<Durably.Infrastructure.Unit>("throw-1"));
        Assert.Contains("over the limit", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConfigureAwait_false_before_a_step_fails_the_run_naming_the_step()
    {
        var log = new BodyLog();
        await using var host = new TestHost(new InMemoryWorkflowStore(), d => d.AddWorkflow<LeavesScheduler>(), s => s.AddSingleton(log));
        await host.Get<LeavesSchedulerClient>().StartAsync("off-1");

        var result = await host.Engine.ExecuteAsync("off-1").WaitAsync(Wait.Timeout);

        Assert.Equal(WorkflowStatus.Failed, result.Status);
        Assert.Equal(typeof(OffSchedulerCallException).FullName, result.Error!.Type);
        Assert.Contains("Step 'Second'", result.Error.Message, StringComparison.Ordinal);
        Assert.Contains("ConfigureAwait(false)", result.Error.Message, StringComparison.Ordinal);
        Assert.Equal(["First"], log.Runs.Select(r => r.StepId));
    }
}
