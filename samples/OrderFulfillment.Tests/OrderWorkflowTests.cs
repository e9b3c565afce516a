using Durably;
using Durably.Runtime;
using Durably.Testing;
using Microsoft.Extensions.DependencyInjection;
using ShipmentSteps = OrderFulfillment.WarehouseShipment.DurableSteps;
using Steps = OrderFulfillment.OrderWorkflow.DurableSteps;

namespace OrderFulfillment.Tests;

/// <summary>The sample workflow, tested as a team would test its own: each test in milliseconds, on the real engine.</summary>
public sealed class OrderWorkflowTests
{
    private static readonly DateTimeOffset s_start = new DurableTestHostOptions().StartTime;

    private readonly TestWarehouse _warehouse = new();
    private readonly TestPayments _payments = new();
    private readonly TestMailer _mailer = new();

    private Task<DurableTestHost> StartHostAsync(Action<DurableTestHostOptions>? configure = null)
        => DurableTestHost.StartAsync(
            workflows => workflows.AddWorkflow<OrderWorkflow>().AddWorkflow<WarehouseShipment>(),
            services => services.AddSingleton<IWarehouse>(_warehouse).AddSingleton<IPayments>(_payments).AddSingleton<IMailer>(_mailer),
            configure);

    private static Order Order(string id, params string[] items) => new(id, "ann@example.com", 120m, items);

    [Fact]
    public async Task An_order_is_reserved_charged_shipped_by_a_child_run_per_warehouse_confirmed_and_tracked()
    {
        await using var host = await StartHostAsync();

        var receipt = await host.RunToCompletionAsync<OrderWorkflowClient, Receipt>(client => client.StartAsync(Order("o-1", "books", "lamp", "kettle"), "o-1"));

        Assert.Equal(["books:L-o-1", "lamp:L-o-1", "kettle:L-o-1"], receipt.Labels);
        Assert.Single(_payments.Charges);
        Assert.Equal(2, _mailer.Sent.Count);
        (await host.GetHistoryAsync("o-1"))
            .AssertStatus(WorkflowStatus.Completed)
            .AssertStepsCompleted(Steps.Reserve, Steps.Charge, Steps.Confirm, Steps.SendTracking)
            .AssertCompensated();
        // The west warehouse shipped the books, the east one the lamp and the kettle: two child runs, journaled by the order.
        (await host.GetHistoryAsync("o-1/WarehouseShipment/2")).AssertStatus(WorkflowStatus.Completed).AssertStepsCompleted(ShipmentSteps.Ship);
        (await host.GetHistoryAsync("o-1/WarehouseShipment/3")).AssertStatus(WorkflowStatus.Completed).AssertStepsCompleted(ShipmentSteps.Ship, ShipmentSteps.Ship);
        var details = (await host.GetRequiredService<OrderWorkflowClient>().GetDetailsAsync("o-1"))!;
        Assert.Equal(["o-1/WarehouseShipment/2", "o-1/WarehouseShipment/3"], details.ChildWorkflowIds);
    }

    [Fact]
    public async Task A_shipment_the_carrier_refuses_twice_is_retried_on_its_backoff_and_ships()
    {
        await using var host = await StartHostAsync();
        var ship = host.Substitute(ShipmentSteps.Ship).Throws(new HttpRequestException("The carrier is busy."), attempts: 2);

        await host.RunToCompletionAsync<OrderWorkflowClient, Receipt>(client => client.StartAsync(Order("o-2", "lamp"), "o-2"));

        // 200 ms, then 400 ms (InitialDelay 200ms, doubling, no jitter); the third attempt ran the real body.
        var history = await host.GetHistoryAsync("o-2/WarehouseShipment/2");
        history.AssertAttempts(ShipmentSteps.Ship, 3);
        Assert.Equal(
            [(s_start, s_start.AddMilliseconds(200)), (s_start.AddMilliseconds(200), s_start.AddMilliseconds(600))],
            history.StepOf(ShipmentSteps.Ship).Retries.Select(r => (r.FailedAt, r.RetryAt)));
        Assert.Equal([1, 2, 3], ship.Calls.Select(c => c.Attempt));
        Assert.Equal(["reserve lamp", "ship lamp"], _warehouse.Calls);
    }

    [Fact]
    public async Task A_piano_cannot_ship_so_the_order_is_rolled_back_in_reverse()
    {
        await using var host = await StartHostAsync();

        var failure = await Assert.ThrowsAsync<WorkflowFailedException>(
            () => host.RunToCompletionAsync<OrderWorkflowClient, Receipt>(client => client.StartAsync(Order("o-3", "books", "piano"), "o-3")));

        Assert.Contains("cannot ship 'piano'", failure.Message, StringComparison.Ordinal);
        Assert.Contains("o-3/WarehouseShipment/2", failure.Message, StringComparison.Ordinal);
        // The west warehouse's child voided the books' label, then the order refunded the card and released the
        // reservation: the reverse of the order they were done.
        var shipment = await host.GetHistoryAsync("o-3/WarehouseShipment/2");
        shipment.AssertStatus(WorkflowStatus.Failed).AssertCompensated(ShipmentSteps.Ship);
        Assert.Equal(1, shipment.CallsOf(ShipmentSteps.Ship).Single(s => s.State == Durably.Runtime.Journal.JournalEntryState.Failed).Attempts);
        var history = await host.GetHistoryAsync("o-3");
        history.AssertStatus(WorkflowStatus.Failed).AssertCompensated(Steps.Charge, Steps.Reserve);
        Assert.Equal(DurableAlertKind.RunFailed, Assert.Single(history.Alerts).Kind);
        Assert.Equal([history.StepOf(Steps.Charge).IdempotencyKey], _payments.Refunds);
        var undone = _warehouse.Calls.Where(c => c.StartsWith("void", StringComparison.Ordinal) || c.StartsWith("release", StringComparison.Ordinal));
        Assert.Equal(["void books:L-o-3", "release " + ReservationId(history)], undone);
    }

    [Fact]
    public async Task A_warehouse_that_shipped_is_rolled_back_when_another_cannot_ship_the_piano()
    {
        await using var host = await StartHostAsync();

        await Assert.ThrowsAsync<WorkflowFailedException>(
            () => host.RunToCompletionAsync<OrderWorkflowClient, Receipt>(client => client.StartAsync(Order("o-6", "lamp", "piano"), "o-6")));

        // The east warehouse's child had shipped the lamp: the order's rollback reopened it, and it voided the label and
        // ended cancelled on its own.
        var cancelled = await Assert.ThrowsAsync<WorkflowFailedException>(() => host.GetRequiredService<WarehouseShipmentClient>().WaitForResultAsync("o-6/WarehouseShipment/2"));
        Assert.Equal(WorkflowStatus.Cancelled, cancelled.Status);
        (await host.GetHistoryAsync("o-6/WarehouseShipment/2")).AssertStatus(WorkflowStatus.Cancelled).AssertCompensated(ShipmentSteps.Ship);
        (await host.GetHistoryAsync("o-6/WarehouseShipment/3")).AssertStatus(WorkflowStatus.Failed);
        var order = (await host.GetHistoryAsync("o-6")).AssertStatus(WorkflowStatus.Failed);
        Assert.Equal(["WarehouseShipment", "Charge", "Reserve"], order.Compensations.Select(c => c.OperationId));
        Assert.Contains("void lamp:L-o-6", _warehouse.Calls);
    }

    [Fact]
    public async Task A_crash_after_the_charge_before_its_journal_write_charges_the_card_once()
    {
        await using var host = await StartHostAsync();
        host.CrashAt(Steps.Charge, CrashPoint.AfterStepBody);
        var handle = await host.GetRequiredService<OrderWorkflowClient>().StartAsync(Order("o-4", "books"), "o-4");

        await host.CrashAsync();
        await host.RestartAsync();
        await host.WaitForResultAsync(handle);

        // The charge's body ran twice — before the crash and after the restart — with one idempotency key: one charge.
        Assert.Equal(2, _payments.ChargeRequests.Count);
        Assert.Single(_payments.ChargeRequests.Distinct());
        Assert.Single(_payments.Charges);
        (await host.GetHistoryAsync("o-4")).AssertStatus(WorkflowStatus.Completed).AssertAttempts(Steps.Charge, 2);
    }

    [Fact]
    public async Task A_four_hour_card_processor_outage_is_waited_out_in_milliseconds()
    {
        // Charges retried hourly, up to five attempts: the processor fails the first four.
        await using var host = await StartHostAsync(o => o.ConfigureEngine(e => e.DefaultRetryPolicy = new RetryPolicy
        {
            MaxAttempts = 5,
            InitialDelay = TimeSpan.FromHours(1),
            BackoffCoefficient = 1,
            MaxDelay = TimeSpan.FromHours(1),
            Jitter = 0,
        }));
        _payments.FailNext = 4;

        await host.RunToCompletionAsync<OrderWorkflowClient, Receipt>(client => client.StartAsync(Order("o-5", "books"), "o-5"));

        var charge = (await host.GetHistoryAsync("o-5")).AssertAttempts(Steps.Charge, 5).StepOf(Steps.Charge);
        Assert.Equal(s_start.AddHours(4), charge.CompletedAt);
        Assert.Equal([1, 2, 3, 4], charge.Retries.Select(r => r.FailedAttempt));
    }

    private static string ReservationId(RunHistory history)
        => System.Text.Json.JsonSerializer.Deserialize<Reservation>(history.StepOf(Steps.Reserve).OutputJson!, System.Text.Json.JsonSerializerOptions.Web)!.Id;
}
