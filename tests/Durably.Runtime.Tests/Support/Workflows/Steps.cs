using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime.Tests.Support;

// Workflows that call steps: in a row, fanned out, reordered, off the scheduler, failing, scoped.

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
#pragma warning disable DURABLY0034 // on purpose: the test shows the run failing at run time when code does this anyway
        var first = await First().ConfigureAwait(false);
#pragma warning restore DURABLY0034
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
    // The build reports it (DURABLY0048); silenced here to test the runtime's own refusal, which a project that
    // silences the rule still gets.
#pragma warning disable DURABLY0048
    [WorkflowRun]
    public async Task<string> RunAsync(Shipment shipment) => await Label(shipment.Name);
#pragma warning restore DURABLY0048

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

/// <summary>One step, held at the gate from the start: once begun, the run writes nothing durable until released.</summary>
[DurableWorkflow]
internal partial class HeldFromStart(Gate gate)
{
    [WorkflowRun]
    public async Task<string> RunAsync(string order) => await Hold(order);

    [Step]
    private async Task<string> Hold(string order, CancellationToken cancellationToken = default)
    {
        await gate.PassAsync(cancellationToken);
        return order;
    }
}

/// <summary>No step at all: a run that starts and ends.</summary>
[DurableWorkflow]
internal partial class NoSteps
{
    [WorkflowRun]
    public Task<string> RunAsync(string order) => Task.FromResult(order + "-done");
}

/// <summary>
/// After a first step: a step whose body finishes before it yields, one whose body yields, and one whose body throws as
/// it is called on its first attempt and succeeds on its second.
/// </summary>
[DurableWorkflow]
internal partial class YieldingOrNot
{
    [WorkflowRun]
    public async Task<string> RunAsync(string order)
    {
        var first = await Plain(order);
        var atOnce = await AtOnce(first);
        var yielded = await Yields(atOnce);
        return await ThrowsOnce(yielded);
    }

    [Step]
    private Task<string> Plain(string value) => Task.FromResult(value + "-plain");

    [Step]
    private Task<string> AtOnce(string value) => Task.FromResult(value + "-at-once");

    [Step]
    private async Task<string> Yields(string value)
    {
        await Task.Yield();
        return value + "-yielded";
    }

    [Step(MaxAttempts = 2, InitialDelay = "0s")]
    private Task<string> ThrowsOnce(string value)
        => StepContext.Current!.Attempt == 1
            ? throw new InvalidOperationException("thrown as the body was called")
            : Task.FromResult(value + "-second-attempt");
}
