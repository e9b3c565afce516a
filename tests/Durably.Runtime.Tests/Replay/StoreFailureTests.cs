using System.Reflection;
using Durably.Runtime.Journal;
using Durably.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime.Tests.Replay;

/// <summary>
/// A store call that fails inside a step's live part (journaling its attempt) stops the execution with that exception
/// instead of leaving the run method waiting forever; the next execution resumes the run from its journal.
/// </summary>
public sealed class StoreFailureTests : StoreTestBase
{

    private protected override TestStorage CreateStorage() => TestStorage.InMemory(Clock);

    [Fact]
    public async Task A_store_failure_while_journaling_an_attempt_stops_the_execution_and_the_next_one_finishes_the_run()
    {
        var log = new TripLog { BookFlight = (_, _) => Task.FromResult("flight") };
        var store = FailingStore.Wrap(OpenStore(), nameof(IWorkflowStore.RecordAttemptAsync), sequence: 1, new InvalidOperationException("disk on fire"));
        var host = Track(new TestHost(store, d => d.AddWorkflow<Trip>(), s => s.AddSingleton<TimeProvider>(Clock).AddSingleton(log), "failing-worker",
            o => o.UnloadThreshold = Timeout.InfiniteTimeSpan));
        await host.Get<TripClient>().StartAsync("ada", "trip-1");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.Engine.ExecuteAsync("trip-1").WaitAsync(Wait.Timeout));
        Assert.Equal("disk on fire", error.Message);
        Assert.Equal(WorkflowStatus.Running, (await host.Store.GetRunAsync("trip-1", default))!.Status);

        var result = await host.Engine.ExecuteAsync("trip-1").WaitAsync(Wait.Timeout);

        Assert.Equal(WorkflowStatus.Completed, result.Status);
        Assert.Equal(["reserve", "charge", "book"], log.Calls);
    }

    /// <summary>Passes every call to a real store, except that one call of one method for one sequence fails once.</summary>
    public class FailingStore : DispatchProxy
    {
        private IWorkflowStore _inner = null!;
        private string _method = null!;
        private long _sequence;
        private Exception? _failure;

        internal static IWorkflowStore Wrap(IWorkflowStore inner, string method, long sequence, Exception failure)
        {
            var proxy = Create<IWorkflowStore, FailingStore>();
            var failing = (FailingStore)(object)proxy;
            (failing._inner, failing._method, failing._sequence, failing._failure) = (inner, method, sequence, failure);
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod!.Name == _method && args!.OfType<JournalEntry>().FirstOrDefault()?.Sequence == _sequence
                && Interlocked.Exchange(ref _failure, null) is { } failure)
            {
                return Task.FromException<JournalWriteResult>(failure);
            }

            try
            {
                return targetMethod.Invoke(_inner, args);
            }
            catch (TargetInvocationException ex) when (ex.InnerException is not null)
            {
                throw ex.InnerException;
            }
        }
    }
}
