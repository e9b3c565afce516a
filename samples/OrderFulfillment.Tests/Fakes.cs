using System.Collections.Concurrent;

namespace OrderFulfillment.Tests;

/// <summary>
/// The test's own stand-ins for the outside world, registered as instances so they outlive a restart (as a real
/// warehouse and card processor outlive a crashed worker). Each dedupes by idempotency key, as a real service should.
/// </summary>
public sealed class TestWarehouse : IWarehouse
{
    public ConcurrentQueue<string> Calls { get; } = new();

    public Task<Reservation> ReserveAsync(string[] items, string idempotencyKey)
    {
        Calls.Enqueue("reserve " + string.Join("+", items));
        return Task.FromResult(new Reservation("R-" + idempotencyKey.GetHashCode(StringComparison.Ordinal).ToString("X8", System.Globalization.CultureInfo.InvariantCulture), items));
    }

    public Task ReleaseAsync(Reservation reservation, string idempotencyKey)
    {
        Calls.Enqueue("release " + reservation.Id);
        return Task.CompletedTask;
    }

    public Task<string> ShipAsync(string orderId, string item, string idempotencyKey)
    {
        Calls.Enqueue("ship " + item);
        return item == "piano" ? throw new CannotShipException(item) : Task.FromResult($"{item}:L-{orderId}");
    }

    public Task VoidLabelAsync(string label, string idempotencyKey)
    {
        Calls.Enqueue("void " + label);
        return Task.CompletedTask;
    }
}

public sealed class TestPayments : IPayments
{
    private readonly ConcurrentDictionary<string, Payment> _charges = new(StringComparer.Ordinal);

    /// <summary>Every charge request, with its key: a repeated request shows up twice here.</summary>
    public ConcurrentQueue<string> ChargeRequests { get; } = new();

    /// <summary>The charges actually made, one per key.</summary>
    public IReadOnlyDictionary<string, Payment> Charges => _charges;

    public ConcurrentQueue<string> Refunds { get; } = new();

    /// <summary>How many of the next charge requests fail, as an outage of the card processor.</summary>
    public int FailNext { get; set; }

    public Task<Payment> ChargeAsync(decimal amount, string idempotencyKey, CancellationToken cancellationToken)
    {
        ChargeRequests.Enqueue(idempotencyKey);
        if (FailNext > 0)
        {
            FailNext--;
            throw new HttpRequestException("The card processor is down.");
        }

        return Task.FromResult(_charges.GetOrAdd(idempotencyKey, key => new Payment("P-" + _charges.Count, amount)));
    }

    public Task RefundAsync(string chargeKey, string idempotencyKey, CancellationToken cancellationToken)
    {
        Refunds.Enqueue(chargeKey);
        return Task.CompletedTask;
    }
}

public sealed class TestMailer : IMailer
{
    public ConcurrentQueue<string> Sent { get; } = new();

    public Task<string> SendAsync(string to, string body, string idempotencyKey)
    {
        Sent.Enqueue($"{to}: {body}");
        return Task.FromResult("M-" + Sent.Count);
    }
}
