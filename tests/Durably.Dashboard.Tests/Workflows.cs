namespace Durably.Dashboard.Tests;

/// <summary>What the shop's outside world does now: whether the carrier answers, and what it says when it does not.</summary>
public sealed class Carrier
{
    public volatile bool Down;

    public string Refusal { get; set; } = "carrier timed out";
}

public sealed record Parcel(string Customer, string Address, string Password, string Notes);

public sealed record Decision(string By, bool Approved);

/// <summary>Reserve, charge, ship: the shipment parks as a dead letter while the carrier is down (two attempts).</summary>
[DurableWorkflow]
public sealed partial class Shipment(Carrier carrier)
{
    [WorkflowRun]
    public async Task<string> RunAsync(Parcel parcel)
    {
        var reservation = await Reserve(parcel.Customer);
        await Charge(parcel.Customer);
        Workflow.SetStatus(new { Stage = "shipping", parcel.Customer });
        return await Ship(reservation, parcel.Address);
    }

    [Step]
    private Task<string> Reserve(string customer) => Task.FromResult($"reservation-for-{customer}");

    [Step(Compensate = nameof(Refund))]
    private Task Charge(string customer) => Task.CompletedTask;

    private Task Refund(string customer) => Task.CompletedTask;

    [Step(MaxAttempts = 2, InitialDelay = "0s", Jitter = 0)]
    private Task<string> Ship(string reservation, string address)
        => carrier.Down ? throw new TimeoutException(carrier.Refusal) : Task.FromResult($"shipped {reservation} to {address}");
}

/// <summary>Waits for a person's decision, for a week.</summary>
[DurableWorkflow]
public sealed partial class Approval
{
    [WorkflowRun]
    public async Task<string> RunAsync(string order)
    {
        Workflow.SetStatus($"waiting for a decision on {order}");
        var decision = await WaitForDecisionAsync(TimeSpan.FromDays(7));
        return decision.IsReceived ? $"{order}: {(decision.Payload!.Approved ? "approved" : "rejected")} by {decision.Payload.By}" : $"{order}: no answer";
    }

    [Signal(Name = "approve")]
    private partial Task<SignalResult<Decision>> WaitForDecisionAsync(TimeSpan timeout);
}

/// <summary>Lets a test hold an import's load step after it reported its progress.</summary>
public sealed class ImportGate
{
    public TaskCompletionSource Open { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>Loads rows, reporting its progress as it goes, then waits at the gate.</summary>
[DurableWorkflow]
public sealed partial class Import(ImportGate gate)
{
    [WorkflowRun]
    public async Task<int> RunAsync(int rows) => await Load(rows);

    [Step]
    private async Task<int> Load(int rows)
    {
        StepContext.Current!.ReportProgress(0.25, $"row <{rows / 4}> of {rows}");
        await gate.Open.Task;
        return rows;
    }
}
