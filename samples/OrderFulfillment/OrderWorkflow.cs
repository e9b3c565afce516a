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

/// <summary>
/// Reserve the items, charge the card, ship each item (in parallel), confirm by mail, mail the tracking links (a step
/// added later, behind a patch). Every step prints when its body runs: after a restart, the steps that had finished
/// print nothing — their results come from the journal.
/// </summary>
/// <remarks>
/// What happens when something fails is declared, not written by hand: a shipment that fails with anything but
/// <see cref="CannotShipException"/> is retried (up to 4 attempts, 200 ms then 400 ms then 800 ms apart, journaled, so a
/// restart keeps the schedule); one the warehouse cannot ship fails the run, and because the rule is
/// <see cref="FailureRule.Compensate"/>, everything that had been done is undone in reverse order — the labels voided,
/// the card refunded, the reservation released — each undo journaled and retried like a step.
/// </remarks>
[DurableWorkflow(OnFailure = FailureRule.Compensate)]
public partial class OrderWorkflow(IWarehouse warehouse, IPayments payments, IMailer mailer)
{
    [WorkflowRun]
    public async Task<Receipt> RunAsync(Order order)
    {
        var reservation = await Reserve(order);
        var payment = await Charge(order);
        var labels = await Task.WhenAll(reservation.Items.Select(item => Ship(order.Id, item)));
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
        => Report(() => warehouse.ReserveAsync(order.Items, Key()));

    [Step(Compensate = nameof(Refund), Timeout = "10s", CircuitBreaker = "payments")]
    private Task<Payment> Charge(Order order, CancellationToken cancellationToken = default)
        => Report(() => payments.ChargeAsync(order.Amount, Key(), cancellationToken));

    [Step(MaxAttempts = 4, InitialDelay = "200ms", Jitter = 0, DoNotRetryOn = [typeof(CannotShipException)], Compensate = nameof(VoidLabel))]
    private Task<string> Ship(string orderId, string item)
        => Report(() => warehouse.ShipAsync(orderId, item, Key()), item);

    [Step]
    private Task<string> Confirm(Order order, string[] labels)
        => Report(() => mailer.SendAsync(order.Email, $"Your order {order.Id} ships as {string.Join(", ", labels)}", Key()));

    [Step]
    private Task<string> SendTracking(Order order, string[] labels)
        => Report(() => mailer.SendAsync(order.Email, $"Track your parcels: {string.Join(", ", labels.Select(l => "https://track.example/" + l))}", Key()));

    // Compensations: each receives the result of the step it undoes, or its arguments. Its idempotency key is the step's
    // plus "/compensate".
    private Task Release(Reservation reservation) => Report(() => warehouse.ReleaseAsync(reservation, Key()), reservation.Id);

    // A charge that timed out may have gone through without returning its Payment, so the refund does not take the
    // result: it asks for whatever was charged under the charge's idempotency key to be refunded.
    private Task Refund(Order order, CancellationToken cancellationToken)
        => Report(() => payments.RefundAsync(StepContext.Current!.StepIdempotencyKey, Key(), cancellationToken), order.Amount.ToString(CultureInfo.InvariantCulture));

    private Task VoidLabel(string label) => Report(() => warehouse.VoidLabelAsync(label, Key()), label);

    private static string Key() => StepContext.Current!.IdempotencyKey;

    private static async Task<T> Report<T>(Func<Task<T>> body, string? detail = null)
    {
        var result = default(T)!;
        await Report(async () => result = await body(), detail, () => $"-> {result}");
        return result;
    }

    private static Task Report(Func<Task> body, string? detail = null) => Report(body, detail, () => string.Empty);

    private static async Task Report(Func<Task> body, string? detail, Func<string> outcome)
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
