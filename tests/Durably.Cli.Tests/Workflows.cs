namespace Durably.Cli.Tests;

public sealed class Carrier
{
    public volatile bool Down;

    public string Refusal { get; set; } = "carrier timed out";
}

public sealed record Decision(string By, bool Approved);

/// <summary>Reserve, then ship: parked as a dead letter while the carrier is down (two attempts).</summary>
[DurableWorkflow]
public sealed partial class Shipment(Carrier carrier)
{
    [WorkflowRun]
    public async Task<string> RunAsync(string customer)
    {
        var reservation = await Reserve(customer);
        Workflow.SetStatus(new { Stage = "shipping", Reservation = reservation });
        return await Ship(reservation);
    }

    [Step]
    private Task<string> Reserve(string customer) => Task.FromResult($"reservation-for-{customer}");

    [Step(MaxAttempts = 2, InitialDelay = "0s", Jitter = 0)]
    private Task<string> Ship(string reservation)
        => carrier.Down ? throw new TimeoutException(carrier.Refusal) : Task.FromResult($"shipped {reservation}");
}

/// <summary>Waits a week for a person's decision.</summary>
[DurableWorkflow]
public sealed partial class Approval
{
    [WorkflowRun]
    public async Task<string> RunAsync(string order)
    {
        var decision = await WaitForDecisionAsync(TimeSpan.FromDays(7));
        return decision.IsReceived ? $"{order}: approved={decision.Payload!.Approved} by {decision.Payload.By}" : $"{order}: no answer";
    }

    [Signal(Name = "approve")]
    private partial Task<SignalResult<Decision>> WaitForDecisionAsync(TimeSpan timeout);
}
