using System.Collections.Concurrent;

namespace OrderFulfillment;

/// <summary>How long each fake call takes: long enough to kill the sample in the middle of a step.</summary>
public sealed record Pace(TimeSpan StepDelay);

public interface IWarehouse
{
    Task<Reservation> ReserveAsync(string[] items, string idempotencyKey);

    Task ReleaseAsync(Reservation reservation, string idempotencyKey);

    Task<string> ShipAsync(string orderId, string item, string idempotencyKey);

    Task VoidLabelAsync(string label, string idempotencyKey);
}

public interface IPayments
{
    Task<Payment> ChargeAsync(decimal amount, string idempotencyKey, CancellationToken cancellationToken);

    /// <summary>Refunds whatever was charged with <paramref name="chargeKey"/>, if anything.</summary>
    Task RefundAsync(string chargeKey, string idempotencyKey, CancellationToken cancellationToken);
}

/// <summary>The warehouse cannot ship this item at all: retrying would not help.</summary>
public sealed class CannotShipException(string item) : Exception($"The warehouse cannot ship '{item}'.");

public interface IMailer
{
    Task<string> SendAsync(string to, string body, string idempotencyKey);
}

// In-process stand-ins for real services. A real one would use the idempotency key to turn a repeated call
// (a body re-run after a crash) into a no-op; these derive their ids from it, so a repeat returns the same id.
// The warehouse's carrier is busy the first time each lamp is shipped (a transient failure, retried), and nothing
// can ship a piano (a permanent one, which rolls the order back).
internal sealed class FakeWarehouse(Pace pace) : IWarehouse
{
    private readonly ConcurrentDictionary<string, bool> _busyOnce = new();

    public async Task<Reservation> ReserveAsync(string[] items, string idempotencyKey)
    {
        await Task.Delay(pace.StepDelay);
        return new Reservation("R-" + Short(idempotencyKey), items);
    }

    public Task ReleaseAsync(Reservation reservation, string idempotencyKey) => Task.Delay(pace.StepDelay);

    public async Task<string> ShipAsync(string orderId, string item, string idempotencyKey)
    {
        await Task.Delay(pace.StepDelay);
        if (item == "piano")
        {
            throw new CannotShipException(item);
        }

        if (item == "lamp" && _busyOnce.TryAdd(idempotencyKey, true))
        {
            throw new HttpRequestException("The carrier is busy; try again shortly.");
        }

        return $"{item}:L-{Short(idempotencyKey)}";
    }

    public Task VoidLabelAsync(string label, string idempotencyKey) => Task.Delay(pace.StepDelay);

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

    public Task RefundAsync(string chargeKey, string idempotencyKey, CancellationToken cancellationToken)
        => Task.Delay(pace.StepDelay, cancellationToken);
}

internal sealed class FakeMailer(Pace pace) : IMailer
{
    public async Task<string> SendAsync(string to, string body, string idempotencyKey)
    {
        await Task.Delay(pace.StepDelay);
        return "M-" + FakeWarehouse.Short(idempotencyKey);
    }
}
