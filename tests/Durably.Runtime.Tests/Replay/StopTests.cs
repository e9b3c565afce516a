using Durably.Runtime.Journal;
using Durably.Runtime.Stores;
using Durably.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime.Tests.Replay;

/// <summary>
/// An execution that stops (its worker shuts down) while a step's body is still in its first synchronous part: the body
/// was called, so its attempting row is in the journal before the lease is released — a row sent after the release
/// would be fenced out, and the next execution would not know the body may have run.
/// </summary>
public sealed class StopTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    [Fact]
    public async Task A_stop_while_a_body_is_still_in_its_first_synchronous_part_leaves_its_attempting_row_in_the_journal()
    {
        var slow = new SlowToYield.Signals();
        await using var host = new TestHost(PostgresWorkflowStore.Open(database.ConnectionString, new PostgresStoreOptions { Schema = "stop_" + Guid.NewGuid().ToString("N")[..12] }), d => d.AddWorkflow<SlowToYield>(), s => s.AddSingleton(slow));
        await host.Get<SlowToYieldClient>().StartAsync("order", "slow-1");
        using var stop = new CancellationTokenSource();
        var execution = host.Engine.ExecuteAsync("slow-1", stop.Token);

        // The second step's body was called and has not returned to its caller yet (it blocks before its first await,
        // until the test lets it go). The stop waits for it: the execution is not over while the body still blocks.
        await slow.Arrived.Task.WaitAsync(Wait.Timeout);
        await stop.CancelAsync();
        await Task.WhenAny(execution, Task.Delay(TimeSpan.FromMilliseconds(300)));
        Assert.False(execution.IsCompleted, "The execution stopped while a step's body it had called was still running.");
        slow.Proceed.Set();
        Assert.Equal(ExecutionOutcome.Abandoned, (await execution.WaitAsync(Wait.Timeout)).Outcome);

        var journal = (await host.Store.LoadAsync("slow-1", default))!;
        Assert.Null(journal.Run.Owner);
        Assert.Equal(["First", "Second"], journal.Journal.Select(e => e.OperationId));
        var second = journal.Journal[1];
        Assert.Equal((JournalEntryState.Attempting, 1), (second.State, second.Attempts));
    }
}

/// <summary>A quick first step, then a step whose body blocks until released before its first await, and then waits.</summary>
[DurableWorkflow]
internal partial class SlowToYield(SlowToYield.Signals signals)
{
    [WorkflowRun]
    public async Task<string> RunAsync(string order) => await Second(await First(order));

    [Step]
    private Task<string> First(string order) => Task.FromResult(order + "-first");

    [Step]
    private async Task<string> Second(string order, CancellationToken cancellationToken = default)
    {
        signals.Arrived.TrySetResult();
        // Still in the body's first synchronous part when the execution is told to stop: it goes on when the test says.
        signals.Proceed.Wait(Wait.Timeout);
        await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
        return order;
    }

    internal sealed class Signals
    {
        public TaskCompletionSource Arrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ManualResetEventSlim Proceed { get; } = new();
    }
}
