using Durably;
using Durably.Runtime;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OrderFulfillment;

// dotnet run --project samples/OrderFulfillment [-- <order id>]
// Kill it while it runs (Ctrl+C, or kill -9) and run it again: it resumes where it stopped, and no step that
// finished runs again. Runs are kept in durably.db next to the program (set --Durably:Database=<path> to move it).
// One setting switches to PostgreSQL: --Durably:Postgres="<connection string>". Every DurableOptions setting can be
// given the same way (--Durably:WorkerName=worker-b, --Durably:LeaseDuration=00:00:05), and
// --Sample:KeepRunning=true keeps the worker running after its order is done, to serve other workers' runs.
var builder = Host.CreateApplicationBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddSingleton(new Pace(TimeSpan.FromMilliseconds(builder.Configuration.GetValue("Sample:StepDelayMs", 800))));
builder.Services.AddSingleton<IWarehouse, FakeWarehouse>();
builder.Services.AddSingleton<IPayments, FakePayments>();
builder.Services.AddSingleton<IMailer, FakeMailer>();
builder.Services.AddDurably(options =>
{
    // A stable name: a restarted sample takes its unfinished runs back at once. Two workers need two names.
    options.WorkerName = "order-sample";
    var durably = builder.Configuration.GetSection("Durably");
    durably.Bind(options);
    if (durably["Postgres"] is { Length: > 0 } postgres)
    {
        options.UsePostgres(postgres);
    }
    else if (durably["Database"] is { Length: > 0 } database)
    {
        options.UseSqlite(database);
    }
}).AddWorkflow<OrderWorkflow>();

using var host = builder.Build();
await host.StartAsync();

// Two orders, one after the other. The first ships after a retried shipment (the carrier is busy once); the second
// contains a piano, which the warehouse cannot ship, so it is rolled back: label voided, card refunded, reservation
// released.
var orderId = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? "order-1001";
Order[] orders =
[
    new(orderId, "ada@example.com", 129.90m, ["books", "lamp", "kettle"]),
    new(orderId + "-piano", "bob@example.com", 4_800m, ["books", "piano"]),
];
var client = host.Services.GetRequiredService<OrderWorkflowClient>();
foreach (var order in orders)
{
    var handle = await client.StartAsync(order, workflowId: order.Id);
    Console.WriteLine($"Order {order.Id}: started (or resumed) run '{handle.WorkflowId}'. Kill me at any point and run me again.");
    try
    {
        var receipt = await handle.WaitForResultAsync();
        Console.WriteLine($"Order {order.Id}: done. {receipt}");
    }
    catch (WorkflowFailedException failed)
    {
        Console.WriteLine($"Order {order.Id}: {failed.Status.ToString().ToLowerInvariant()} and rolled back. {failed.Error?.Message}");
    }
}

if (builder.Configuration.GetValue("Sample:KeepRunning", false))
{
    Console.WriteLine("Working on other runs until stopped (Ctrl+C).");
    await host.WaitForShutdownAsync();
}

await host.StopAsync();
