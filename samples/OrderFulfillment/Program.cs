using System.Text.RegularExpressions;
using Durably;
using Durably.Runtime;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OrderFulfillment;

// dotnet run --project samples/OrderFulfillment [-- <order id>]
// Without an order id, the sample resumes the order a previous run left unfinished, or else starts the next one
// (order-1001, order-1002, …): so running the same command again after a crash always resumes it. Kill it while it
// runs (kill -9 <the process id it prints>, or Ctrl+C to stop gracefully) and run it again: no step that finished runs
// again. Runs are kept in durably.db next to the program (--Durably:Database=<path>, or the environment variable
// Durably__Database, moves it). One setting switches to PostgreSQL: --Durably:Postgres="<connection string>". Every
// DurableOptions setting can be given the same way (--Durably:WorkerName=worker-b, --Durably:LeaseDuration=00:00:05),
// and --Sample:KeepRunning=true keeps the worker running after its order is done, to serve other workers' runs.
// --dashboard also serves the operators' dashboard at http://127.0.0.1:5080/durably (--Sample:DashboardUrl moves it)
// and keeps running after the orders, so you can click through them; Ctrl+C stops it.
var dashboard = args.Contains("--dashboard");
args = [.. args.Where(a => a != "--dashboard")];
IHostApplicationBuilder builder = dashboard ? WebApplication.CreateSlimBuilder(args) : Host.CreateApplicationBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddSingleton(new Pace(TimeSpan.FromMilliseconds(builder.Configuration.GetValue("Sample:StepDelayMs", 800))));
builder.Services.AddSingleton<IWarehouse, FakeWarehouse>();
builder.Services.AddSingleton<IPayments, FakePayments>();
builder.Services.AddSingleton<IMailer, FakeMailer>();
builder.Services.AddDurably(options =>
{
    // A stable name: a restarted sample takes its unfinished runs back at once. Two workers need two names.
    options.WorkerName = "order-sample";
    // Ctrl+C stops at once: steps in flight are released for the next run rather than left to finish (default 10 s).
    options.ShutdownDrainTimeout = TimeSpan.FromSeconds(1);
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
}).AddWorkflow<OrderWorkflow>().AddWorkflow<WarehouseShipment>();

var dashboardUrl = builder.Configuration.GetValue("Sample:DashboardUrl", "http://127.0.0.1:5080")!.TrimEnd('/');
using var host = dashboard ? WithDashboard((WebApplicationBuilder)builder, dashboardUrl) : ((HostApplicationBuilder)builder).Build();
await host.StartAsync();
var stopping = host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
Console.WriteLine($"Sample process {Environment.ProcessId}. To crash it mid-run, from another terminal: kill -9 {Environment.ProcessId}   (Ctrl+C stops it gracefully)");
if (dashboard)
{
    Console.WriteLine($"Dashboard: {dashboardUrl}/durably — watch the orders' steps as they run.");
}

var client = host.Services.GetRequiredService<OrderWorkflowClient>();
var orderId = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal))
    ?? await DefaultOrderAsync(host.Services.GetRequiredService<IDurableClient>(), stopping);

// Two orders, one after the other, each shipped by a child run per warehouse. The first ships after a retried shipment
// (the carrier is busy once); the second contains a piano, which the west warehouse cannot ship, so it is rolled back:
// the west warehouse's child voids the books' label, then the order rolls back the east warehouse's child (which voids
// the lamp's label), refunds the card and releases the reservation.
Order[] orders =
[
    new(orderId, "ada@example.com", 129.90m, ["books", "lamp", "kettle"]),
    new(orderId + "-piano", "bob@example.com", 4_800m, ["books", "lamp", "piano"]),
];
try
{
    foreach (var order in orders)
    {
        var handle = await client.StartAsync(order, workflowId: order.Id, stopping);
        Console.WriteLine($"Order {order.Id}: started (or resumed) run '{handle.WorkflowId}'. Kill me at any point and run me again.");
        try
        {
            var receipt = await handle.WaitForResultAsync(stopping);
            Console.WriteLine($"Order {order.Id}: done. {receipt}");
        }
        catch (WorkflowFailedException failed)
        {
            Console.WriteLine($"Order {order.Id}: {failed.Status.ToString().ToLowerInvariant()} and rolled back. {failed.Error?.Message}");
        }
    }

    if (dashboard)
    {
        Console.WriteLine($"Both orders are done; the dashboard stays up at {dashboardUrl}/durably until Ctrl+C.");
        await host.WaitForShutdownAsync();
    }
    else if (builder.Configuration.GetValue("Sample:KeepRunning", false))
    {
        Console.WriteLine("Working on other runs until stopped (Ctrl+C).");
        await host.WaitForShutdownAsync();
    }
}
catch (OperationCanceledException) when (stopping.IsCancellationRequested)
{
    Console.WriteLine($"Stopping: runs in progress are released. Run the same command again to resume order {orderId}.");
}

await host.StopAsync();

// The sample as a web app that also serves the dashboard. Only on this machine (127.0.0.1) and without sign-in, for a
// demo: an app exposes it behind its own policy, app.MapDurablyDashboard("/durably").RequireAuthorization("ops").
static WebApplication WithDashboard(WebApplicationBuilder builder, string url)
{
    builder.WebHost.UseUrls(url);
    builder.Services.AddDurablyDashboard();
    var app = builder.Build();
    app.MapDurablyDashboard("/durably", options => options.Operator = _ => Environment.UserName);
    return app;
}

// The order a previous run left unfinished, or the next new one: order-1001, order-1002, …
static async Task<string> DefaultOrderAsync(IDurableClient durable, CancellationToken cancellationToken)
{
    var pattern = new Regex(@"^order-(\d+)(-piano)?$");
    var highest = 1000;
    string? unfinished = null;
    var query = new WorkflowRunQuery { WorkflowName = nameof(OrderWorkflow), PageSize = WorkflowRunQuery.MaxPageSize };
    while (true)
    {
        var page = await durable.ListRunsAsync(query, cancellationToken);
        foreach (var run in page.Runs)
        {
            if (pattern.Match(run.WorkflowId) is { Success: true } match)
            {
                var number = int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
                highest = Math.Max(highest, number);
                if (run.Status == WorkflowStatus.Running)
                {
                    unfinished = $"order-{number}";
                }
            }
        }

        if (page.NextPageToken is null)
        {
            break;
        }

        query = query with { PageToken = page.NextPageToken };
    }

    if (unfinished is not null)
    {
        Console.WriteLine($"Resuming order {unfinished}, which a previous run left unfinished.");
        return unfinished;
    }

    return $"order-{highest + 1}";
}
