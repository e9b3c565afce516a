using Durably.Runtime.Engine;
using Durably.Runtime.Journal;
using Durably.Runtime.Stores;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime.Tests.Engine;

/// <summary>
/// The outcomes a process keeps for the <c>WaitForResultAsync</c> that follows an early start whose run ended before
/// <c>StartAsync</c> returned: taken once, bounded in number and in size.
/// </summary>
public sealed class KeptOutcomeTests
{
    private static EngineContext NewContext() => new(new InMemoryWorkflowStore(), new DurableOptions(), new ServiceCollection().BuildServiceProvider(), TimeProvider.System);

    private static RunOutcome Completed(string output) => new(WorkflowStatus.Completed, output, null);

    [Fact]
    public void A_kept_outcome_is_taken_once()
    {
        var context = NewContext();
        context.KeepOutcome("run-1", Completed("\"done\""));

        Assert.Equal("\"done\"", context.TakeKeptOutcome("run-1")?.OutputJson);
        Assert.Null(context.TakeKeptOutcome("run-1"));
        Assert.Null(context.TakeKeptOutcome("never-kept"));
    }

    [Fact]
    public void Only_the_newest_256_are_kept_and_a_large_output_is_left_to_the_store()
    {
        var context = NewContext();
        for (var i = 0; i < 300; i++)
        {
            context.KeepOutcome($"run-{i}", Completed(i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        context.KeepOutcome("large", Completed(new string('x', 16 * 1024 + 1)));
        context.KeepOutcome("at-the-limit", Completed(new string('x', 16 * 1024)));

        Assert.Null(context.TakeKeptOutcome("run-0"));
        Assert.Null(context.TakeKeptOutcome("run-44"));
        Assert.Equal("45", context.TakeKeptOutcome("run-45")?.OutputJson);
        Assert.Null(context.TakeKeptOutcome("large"));
        Assert.NotNull(context.TakeKeptOutcome("at-the-limit"));
        Assert.Equal("299", context.TakeKeptOutcome("run-299")?.OutputJson);
    }
}
