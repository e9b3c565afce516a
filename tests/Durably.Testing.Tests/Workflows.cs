namespace Durably.Testing.Tests;

public interface IGreeter
{
    string Greet(string name);
}

public sealed class LoudGreeter : IGreeter
{
    public string Greet(string name) => "HELLO " + name.ToUpperInvariant();
}

/// <summary>Greets through a service the test registers.</summary>
[DurableWorkflow]
public partial class Greeting(IGreeter greeter)
{
    [WorkflowRun]
    public async Task<string> RunAsync(string name) => await Greet(name) + "!";

    [Step]
    private Task<string> Greet(string name) => Task.FromResult(greeter.Greet(name));
}

public sealed record Approval(bool Approved);

/// <summary>Waits an hour for an approval, then records it.</summary>
[DurableWorkflow]
public partial class Expense
{
    [WorkflowRun]
    public async Task<string> RunAsync(string item)
    {
        await Submit(item);
        var answer = await WaitForApproval(TimeSpan.FromHours(1));
        return answer.IsReceived && answer.Payload!.Approved ? "approved" : "refused";
    }

    [Step]
    private Task Submit(string item) => Task.CompletedTask;

    [Signal]
    private partial Task<SignalResult<Approval>> WaitForApproval(TimeSpan timeout);
}

/// <summary>A step that always fails, with one attempt.</summary>
[DurableWorkflow]
public partial class Broken
{
    [WorkflowRun]
    public async Task<int> RunAsync(int value) => await Divide(value);

    [Step(MaxAttempts = 1)]
    private Task<int> Divide(int value) => value == 0 ? throw new DivideByZeroException("no zero, please") : Task.FromResult(100 / value);
}

/// <summary>Sleeps thirty days, then stamps the time.</summary>
[DurableWorkflow]
public partial class LongSleep
{
    [WorkflowRun]
    public async Task<DateTimeOffset> RunAsync(int days)
    {
        await Workflow.SleepAsync(TimeSpan.FromDays(days));
        return await Stamp(Workflow.Now);
    }

    [Step]
    private Task<DateTimeOffset> Stamp(DateTimeOffset at) => Task.FromResult(at);
}

/// <summary>Fails five times, an hour apart, then succeeds on the sixth attempt.</summary>
[DurableWorkflow]
public partial class Flaky
{
    public static readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> Attempts = new();

    [WorkflowRun]
    public async Task<int> RunAsync(string key) => await Call(key);

    [Step(MaxAttempts = 6, InitialDelay = "1h", BackoffCoefficient = 1, Jitter = 0)]
    private Task<int> Call(string key)
    {
        var attempt = Attempts.AddOrUpdate(key, 1, (_, n) => n + 1);
        return attempt < 6 ? throw new TimeoutException($"attempt {attempt} timed out") : Task.FromResult(attempt);
    }
}

/// <summary>Waits some days for a signature, then records what happened and when.</summary>
[DurableWorkflow]
public partial class Contract
{
    [WorkflowRun]
    public async Task<string> RunAsync(int days)
    {
        var signature = await WaitForSignature(TimeSpan.FromDays(days));
        return await Record(signature.IsReceived ? "signed by " + signature.Payload : "expired", Workflow.Now);
    }

    [Step]
    private Task<string> Record(string outcome, DateTimeOffset at) => Task.FromResult(outcome + " at " + at.ToString("O", System.Globalization.CultureInfo.InvariantCulture));

    [Signal]
    private partial Task<SignalResult<string>> WaitForSignature(TimeSpan timeout);
}

/// <summary>Calls a remote behind the "remote" circuit breaker; the first two calls fail, which opens it.</summary>
[DurableWorkflow]
public partial class Guarded(TimeProvider time)
{
    public static readonly System.Collections.Concurrent.ConcurrentDictionary<string, List<DateTimeOffset>> Calls = new();

    [WorkflowRun]
    public async Task<int> RunAsync(string key) => await Call(key);

    [Step(MaxAttempts = 4, InitialDelay = "1s", BackoffCoefficient = 1, Jitter = 0, CircuitBreaker = "remote")]
    private Task<int> Call(string key)
    {
        var calls = Calls.GetOrAdd(key, _ => []);
        lock (calls)
        {
            calls.Add(time.GetUtcNow());
            return calls.Count < 3 ? throw new TimeoutException($"call {calls.Count} timed out") : Task.FromResult(calls.Count);
        }
    }
}

/// <summary>What the trip's real steps and compensations did, in order.</summary>
public sealed class TripLog
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _entries = new();

    public IReadOnlyList<string> Entries => [.. _entries];

    public void Add(string entry) => _entries.Enqueue(entry);
}

/// <summary>Books a flight, then a hotel (three tries, ten minutes apart); a failure cancels the flight.</summary>
[DurableWorkflow(OnFailure = FailureRule.Compensate)]
public partial class Trip(TripLog log)
{
    [WorkflowRun]
    public async Task<string> RunAsync(string who)
    {
        var flight = await BookFlight(who);
        var hotel = await BookHotel(who);
        return flight + " + " + hotel;
    }

    [Step(Compensate = nameof(CancelFlight))]
    private Task<string> BookFlight(string who)
    {
        log.Add("flight for " + who);
        return Task.FromResult("FL-" + who);
    }

    [Step(MaxAttempts = 3, InitialDelay = "10m", BackoffCoefficient = 1, Jitter = 0)]
    private Task<string> BookHotel(string who)
    {
        log.Add("hotel for " + who);
        return Task.FromResult("HO-" + who);
    }

    private Task CancelFlight(string flight)
    {
        log.Add("cancel " + flight);
        return Task.CompletedTask;
    }
}

/// <summary>Parks itself for an operator when its one step fails.</summary>
[DurableWorkflow(OnFailure = FailureRule.Park)]
public partial class Parked
{
    [WorkflowRun]
    public async Task<int> RunAsync(int value) => await Check(value);

    [Step(MaxAttempts = 1)]
    private Task<int> Check(int value) => value < 0 ? throw new ArgumentOutOfRangeException(nameof(value), value, "negative values need a person") : Task.FromResult(value);
}

/// <summary>A child that sleeps a day, then wraps its input: what a parent waits for.</summary>
[DurableWorkflow]
public partial class SlowChild
{
    [WorkflowRun]
    public async Task<string> RunAsync(string input)
    {
        await Workflow.SleepAsync(TimeSpan.FromDays(1));
        return await Wrap(input);
    }

    [Step]
    private Task<string> Wrap(string input) => Task.FromResult($"[{input}]");
}

/// <summary>Runs three children at once through the child's generated client.</summary>
[DurableWorkflow]
public partial class ChildParent(SlowChildClient children)
{
    [WorkflowRun]
    public async Task<string> RunAsync(string input)
        => string.Join(",", await Task.WhenAll(new[] { "a", "b", "c" }.Select(suffix => children.RunAsChildAsync(input + suffix))));
}
