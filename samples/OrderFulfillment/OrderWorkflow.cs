using Durably;

namespace OrderFulfillment;

public sealed record Order(string Id, string Email, decimal Amount, string[] Items);

public sealed record Reservation(string Id, string[] Items)
{
    public override string ToString() => $"{Id} ({string.Join(", ", Items)})";
}

public sealed record Payment(string Id, decimal Amount);

public sealed record Receipt(string ReservationId, string PaymentId, string[] Labels, string ConfirmationId)
{
    public override string ToString()
        => $"reservation {ReservationId}, payment {PaymentId}, labels [{string.Join(", ", Labels)}], confirmation {ConfirmationId}";
}

/// <summary>
/// Reserve the items, charge the card, ship each item (in parallel), confirm by mail. Every step prints when its
/// body runs: after a restart, the steps that had finished print nothing — their results come from the journal.
/// </summary>
[DurableWorkflow]
public partial class OrderWorkflow(IWarehouse warehouse, IPayments payments, IMailer mailer)
{
    [WorkflowRun]
    public async Task<Receipt> RunAsync(Order order)
    {
        var reservation = await Reserve(order);
        var payment = await Charge(order);
        var labels = await Task.WhenAll(reservation.Items.Select(item => Ship(order.Id, item)));
        var confirmation = await Confirm(order, labels);
        return new Receipt(reservation.Id, payment.Id, labels, confirmation);
    }

    [Step]
    private Task<Reservation> Reserve(Order order)
        => Report(() => warehouse.ReserveAsync(order.Items, Key()));

    [Step]
    private Task<Payment> Charge(Order order, CancellationToken cancellationToken = default)
        => Report(() => payments.ChargeAsync(order.Amount, Key(), cancellationToken));

    [Step]
    private Task<string> Ship(string orderId, string item)
        => Report(() => warehouse.ShipAsync(orderId, item, Key()), item);

    [Step]
    private Task<string> Confirm(Order order, string[] labels)
        => Report(() => mailer.SendAsync(order.Email, $"Your order {order.Id} ships as {string.Join(", ", labels)}", Key()));

    private static string Key() => StepContext.Current!.IdempotencyKey;

    private static async Task<T> Report<T>(Func<Task<T>> body, string? detail = null)
    {
        var step = StepContext.Current!;
        var name = step.StepId + (detail is null ? string.Empty : $"({detail})");
        Console.WriteLine($"  step {name,-16} running  (attempt {step.Attempt}, idempotency key {step.IdempotencyKey})");
        var result = await body();
        Console.WriteLine($"  step {name,-16} done     -> {result}");
        return result;
    }
}
