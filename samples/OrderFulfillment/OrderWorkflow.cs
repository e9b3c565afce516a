using System.Globalization;
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

/// <summary>What one warehouse ships of an order: the input of its <see cref="WarehouseShipment"/> child run.</summary>
public sealed record WarehouseParcels(string OrderId, string Warehouse, string[] Items);

/// <summary>
/// Reserve the items, charge the card, ship each warehouse's items through a child workflow per warehouse (all at
/// once), confirm by mail, mail the tracking links (a step added later, behind a patch). Every step prints when its body
/// runs: after a restart, the steps that had finished print nothing — their results come from the journal.
/// </summary>
/// <remarks>
/// What happens when something fails is declared, not written by hand: a warehouse that cannot ship an item fails its
/// child run, which undoes its own labels; the child's failure reaches this run as a
/// <see cref="ChildWorkflowFailedException"/>, and because the rule is <see cref="FailureRule.Compensate"/>, everything
/// this run had done is undone in reverse order — the card refunded, the reservation released — each undo journaled and
/// retried like a step — and a warehouse's child that had shipped is asked to roll back too, and voids its labels.
/// </remarks>
[DurableWorkflow(OnFailure = FailureRule.Compensate)]
public partial class OrderWorkflow(IWarehouse warehouse, IPayments payments, IMailer mailer, WarehouseShipmentClient shipments)
{
    [WorkflowRun]
    public async Task<Receipt> RunAsync(Order order)
    {
        var reservation = await Reserve(order);
        var payment = await Charge(order);

        // One child run per warehouse, all at once: order-7/WarehouseShipment/2, order-7/WarehouseShipment/3, … Each is
        // journaled here as one operation; this run unloads while they work and is woken by their ends.
        var byWarehouse = reservation.Items.GroupBy(Warehouses.Of).ToList();
        var shipped = await Task.WhenAll(byWarehouse.Select(w => shipments.RunAsChildAsync(new WarehouseParcels(order.Id, w.Key, [.. w]))));
        var labels = Warehouses.InItemOrder(reservation.Items, byWarehouse.Select(w => w.Key).ToList(), shipped);
        var confirmation = await Confirm(order, labels);

        // A change made while orders were in flight, guarded by a patch (docs/versioning.md): a run that reaches this
        // point on this code journals a marker and sends the tracking mail, on every replay too; a run that had already
        // passed this point on the code before it replays as it ran, without the mail. Once no such run is in flight,
        // replace the 'if' with Workflow.DeprecatePatch("tracking-mail") and keep the call.
        if (Workflow.Patched("tracking-mail"))
        {
            await SendTracking(order, labels);
        }

        return new Receipt(reservation.Id, payment.Id, labels, confirmation);
    }

    [Step(Compensate = nameof(Release))]
    private Task<Reservation> Reserve(Order order)
        => StepReport.Run(() => warehouse.ReserveAsync(order.Items, StepReport.Key()));

    [Step(Compensate = nameof(Refund), Timeout = "10s", CircuitBreaker = "payments")]
    private Task<Payment> Charge(Order order, CancellationToken cancellationToken = default)
        => StepReport.Run(() => payments.ChargeAsync(order.Amount, StepReport.Key(), cancellationToken));

    [Step]
    private Task<string> Confirm(Order order, string[] labels)
        => StepReport.Run(() => mailer.SendAsync(order.Email, $"Your order {order.Id} ships as {string.Join(", ", labels)}", StepReport.Key()));

    [Step]
    private Task<string> SendTracking(Order order, string[] labels)
        => StepReport.Run(() => mailer.SendAsync(order.Email, $"Track your parcels: {string.Join(", ", labels.Select(l => "https://track.example/" + l))}", StepReport.Key()));

    // Compensations: each receives the result of the step it undoes, or its arguments. Its idempotency key is the step's
    // plus "/compensate".
    private Task Release(Reservation reservation) => StepReport.Run(() => warehouse.ReleaseAsync(reservation, StepReport.Key()), reservation.Id);

    // A charge that timed out may have gone through without returning its Payment, so the refund does not take the
    // result: it asks for whatever was charged under the charge's idempotency key to be refunded.
    private Task Refund(Order order, CancellationToken cancellationToken)
        => StepReport.Run(() => payments.RefundAsync(StepContext.Current!.StepIdempotencyKey, StepReport.Key(), cancellationToken), order.Amount.ToString(CultureInfo.InvariantCulture));
}

/// <summary>
/// Ships one warehouse's items of an order, in parallel: a child workflow of <see cref="OrderWorkflow"/>, with steps,
/// retries and rollback of its own. A shipment that fails with anything but <see cref="CannotShipException"/> is retried
/// (up to 4 attempts, 200 ms then 400 ms then 800 ms apart, journaled, so a restart keeps the schedule); an item the
/// warehouse cannot ship fails the child, which voids the labels it had printed and reaches its parent as a failure.
/// </summary>
[DurableWorkflow(OnFailure = FailureRule.Compensate)]
public partial class WarehouseShipment(IWarehouse warehouse)
{
    [WorkflowRun]
    public async Task<string[]> RunAsync(WarehouseParcels parcels)
        => await Task.WhenAll(parcels.Items.Select(item => Ship(parcels.OrderId, item)));

    [Step(MaxAttempts = 4, InitialDelay = "200ms", Jitter = 0, DoNotRetryOn = [typeof(CannotShipException)], Compensate = nameof(VoidLabel))]
    private Task<string> Ship(string orderId, string item)
        => StepReport.Run(() => warehouse.ShipAsync(orderId, item, StepReport.Key()), item);

    private Task VoidLabel(string label) => StepReport.Run(() => warehouse.VoidLabelAsync(label, StepReport.Key()), label);
}

/// <summary>Which warehouse ships an item: lamps and kettles come from the east, everything else from the west.</summary>
public static class Warehouses
{
    public static string Of(string item) => item is "lamp" or "kettle" ? "east" : "west";

    /// <summary>The warehouses' labels put back in the order of <paramref name="items"/>.</summary>
    public static string[] InItemOrder(string[] items, IReadOnlyList<string> warehouses, string[][] labels)
    {
        var queues = warehouses.Select((w, i) => (w, new Queue<string>(labels[i]))).ToDictionary(x => x.w, x => x.Item2);
        return [.. items.Select(item => queues[Of(item)].Dequeue())];
    }
}

/// <summary>Prints each step body as it runs and ends, with its attempt and idempotency key.</summary>
internal static class StepReport
{
    public static string Key() => StepContext.Current!.IdempotencyKey;

    public static async Task<T> Run<T>(Func<Task<T>> body, string? detail = null)
    {
        var result = default(T)!;
        await Run(async () => result = await body(), detail, () => $"-> {result}");
        return result;
    }

    public static Task Run(Func<Task> body, string? detail = null) => Run(body, detail, () => string.Empty);

    private static async Task Run(Func<Task> body, string? detail, Func<string> outcome)
    {
        var step = StepContext.Current!;
        var what = (step.IsCompensation ? "undo " : "step ") + step.StepId + (detail is null ? string.Empty : $"({detail})");
        Console.WriteLine($"  {what,-22} running  (attempt {step.Attempt}, idempotency key {step.IdempotencyKey})");
        try
        {
            await body();
        }
        catch (Exception ex)
        {
            Console.WriteLine($"  {what,-22} failed   ({ex.GetType().Name}: {ex.Message})");
            throw;
        }

        Console.WriteLine($"  {what,-22} done     {outcome()}".TrimEnd());
    }
}
