namespace OrderFulfillment;

/// <summary>How long each fake call takes: long enough to kill the sample in the middle of a step.</summary>
public sealed record Pace(TimeSpan StepDelay);

public interface IWarehouse
{
    Task<Reservation> ReserveAsync(string[] items, string idempotencyKey);

    Task<string> ShipAsync(string orderId, string item, string idempotencyKey);
}

public interface IPayments
{
    Task<Payment> ChargeAsync(decimal amount, string idempotencyKey, CancellationToken cancellationToken);
}

public interface IMailer
{
    Task<string> SendAsync(string to, string body, string idempotencyKey);
}

// In-process stand-ins for real services. A real one would use the idempotency key to turn a repeated call
// (a body re-run after a crash) into a no-op; these derive their ids from it, so a repeat returns the same id.
internal sealed class FakeWarehouse(Pace pace) : IWarehouse
{
    public async Task<Reservation> ReserveAsync(string[] items, string idempotencyKey)
    {
        await Task.Delay(pace.StepDelay);
        return new Reservation("R-" + Short(idempotencyKey), items);
    }

    public async Task<string> ShipAsync(string orderId, string item, string idempotencyKey)
    {
        await Task.Delay(pace.StepDelay);
        return $"{item}:L-{Short(idempotencyKey)}";
    }

    /// <summary>A short id that depends only on the key (FNV-1a), so a repeated call gets the same id in any process.</summary>
    internal static string Short(string key)
    {
        var hash = 2166136261u;
        foreach (var c in key)
        {
            hash = unchecked((hash ^ c) * 16777619u);
        }

        return (hash % 100_000).ToString("D5", System.Globalization.CultureInfo.InvariantCulture);
    }
}

internal sealed class FakePayments(Pace pace) : IPayments
{
    public async Task<Payment> ChargeAsync(decimal amount, string idempotencyKey, CancellationToken cancellationToken)
    {
        await Task.Delay(pace.StepDelay, cancellationToken);
        return new Payment("P-" + FakeWarehouse.Short(idempotencyKey), amount);
    }
}

internal sealed class FakeMailer(Pace pace) : IMailer
{
    public async Task<string> SendAsync(string to, string body, string idempotencyKey)
    {
        await Task.Delay(pace.StepDelay);
        return "M-" + FakeWarehouse.Short(idempotencyKey);
    }
}
