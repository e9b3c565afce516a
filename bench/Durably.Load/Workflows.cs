namespace Durably.Load;

/// <summary>One step, then a wait for signal "go" with no timeout, then one more step: a run that waits for a person.</summary>
[DurableWorkflow]
public partial class Waiter
{
    /// <summary>How many first steps have run in this process.</summary>
    public static int Asked;

    [WorkflowRun]
    public async Task<int> RunAsync(int input)
    {
        await Ask(input);
        var go = await Workflow.WaitForSignalAsync<int>("go", Timeout.InfiniteTimeSpan);
        return await Finish(input + go.Payload);
    }

    [Step]
    private Task<int> Ask(int value)
    {
        Interlocked.Increment(ref Asked);
        return Task.FromResult(value);
    }

    [Step]
    private Task<int> Finish(int value) => Task.FromResult(value);
}

/// <summary>
/// One step, then a second that never ends in the victim process (it waits to be killed) and returns at once in the
/// process that recovers the run: a run in flight when its worker dies.
/// </summary>
[DurableWorkflow]
public partial class Recoverable
{
    /// <summary>True in the victim process: the second step hangs.</summary>
    public static bool Hang;

    /// <summary>How many second steps have begun in this process.</summary>
    public static int InSecondStep;

    [WorkflowRun]
    public async Task<int> RunAsync(int input) => await Second(await First(input));

    [Step]
    private Task<int> First(int value) => Task.FromResult(value + 1);

    [Step]
    private async Task<int> Second(int value, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref InSecondStep);
        if (Hang)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        return value + 1;
    }
}

/// <summary>W3 and W5: one run of many no-op steps in a row. In a victim process the last step hangs until it is killed.</summary>
[DurableWorkflow]
public partial class LongRun
{
    /// <summary>True in a victim process: the last step hangs.</summary>
    public static bool HangAtLast;

    /// <summary>How many step bodies have run in this process.</summary>
    public static int Bodies;

    [WorkflowRun]
    public async Task<int> RunAsync(int steps)
    {
        var value = 0;
        for (var i = 0; i < steps; i++)
        {
            value = await Next(value, i == steps - 1);
        }

        return value;
    }

    [Step]
    private async Task<int> Next(int value, bool last, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref Bodies);
        if (last && HangAtLast)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        return value + 1;
    }
}

/// <summary>W4: ten steps of 20 ms each. Counts the bodies that run in this process and notes when the first one began.</summary>
[DurableWorkflow]
public partial class TenSlowSteps
{
    /// <summary>How many step bodies have run in this process.</summary>
    public static int Bodies;

    /// <summary>When the first step body of this process began (UTC ticks), 0 before.</summary>
    public static long FirstBodyAt;

    /// <summary>Idempotency keys of steps journaled as completed before this process started: a body with one of them is a re-run.</summary>
    public static HashSet<string> JournaledBefore = [];

    /// <summary>Bodies that ran although their step was journaled as completed.</summary>
    public static int ReRuns;

    [WorkflowRun]
    public async Task<int> RunAsync(int input)
    {
        var value = input;
        for (var i = 0; i < 10; i++)
        {
            value = await Work(value);
        }

        return value;
    }

    [Step]
    private async Task<int> Work(int value)
    {
        Interlocked.CompareExchange(ref FirstBodyAt, DateTime.UtcNow.Ticks, 0);
        Interlocked.Increment(ref Bodies);
        if (JournaledBefore.Contains(StepContext.Current!.IdempotencyKey))
        {
            Interlocked.Increment(ref ReRuns);
        }

        await Task.Delay(20);
        return value + 1;
    }
}
