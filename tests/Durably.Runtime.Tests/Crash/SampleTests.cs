using System.Diagnostics;
using Durably.Runtime.Journal;
using Durably.Runtime.Stores;
using Durably.Runtime.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Durably.Runtime.Tests.Crash;

/// <summary>The OrderFulfillment sample, run as a user would: killed mid-run, run again, it finishes without repeating a step.</summary>
public sealed class SampleTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durably-sample-" + Guid.NewGuid().ToString("N"));

    public SampleTests() => Directory.CreateDirectory(_directory);

    private string Database => Path.Combine(_directory, "sample.db");

    [Fact]
    public async Task The_sample_killed_mid_run_resumes_without_repeating_a_journaled_step()
    {
        // A Ship step starts only once Charge's completion is journaled: kill there, with the shipments in flight.
        var first = RunSample(killAfter: "step Ship(");
        Assert.DoesNotContain("Order order-7: done.", first, StringComparison.Ordinal);

        List<string> journaled;
        using (var store = SqliteWorkflowStore.Open(Database))
        {
            var snapshot = (await store.LoadAsync("order-7", default))!;
            Assert.Equal(WorkflowStatus.Running, snapshot.Run.Status);
            journaled = [.. snapshot.Journal.Where(e => e.State == JournalEntryState.Completed).Select(e => StepContext.CreateIdempotencyKey("order-7", e.OperationId, e.Sequence))];
        }

        SqliteConnection.ClearAllPools();
        Assert.Contains("order-7/Reserve/0", journaled);
        Assert.Contains("order-7/Charge/1", journaled);

        var second = RunSample(killAfter: null);

        Assert.All(journaled, key => Assert.DoesNotContain($"idempotency key {key})", second, StringComparison.Ordinal));
        var reservation = first.Split('\n').Single(l => l.Contains("step Reserve ", StringComparison.Ordinal) && l.Contains(" done ", StringComparison.Ordinal)).Split("-> ")[1].Split(' ')[0];
        Assert.Contains($"Order order-7: done. reservation {reservation}", second, StringComparison.Ordinal);

        // The lamp's shipment, in the east warehouse's child run, fails once (the carrier is busy) and is retried; the
        // second order cannot ship its piano, so the west warehouse's child voids the books' label and the order is
        // rolled back, newest first.
        Assert.Contains("step Ship(lamp)        failed   (HttpRequestException", second, StringComparison.Ordinal);
        Assert.Contains("idempotency key order-7/WarehouseShipment/3/Ship/0)", second, StringComparison.Ordinal);
        Assert.Matches(@"step Ship\(lamp\) +running +\(attempt [23],", second);
        Assert.Contains("Order order-7-piano: failed and rolled back.", second, StringComparison.Ordinal);
        // The west warehouse's child voids the books' label itself; the order then asks the east warehouse's child, which
        // had shipped the lamp, to roll back (it does so on its own, beside the order's own undos).
        var undoVoid = second.IndexOf("undo Ship(books:", StringComparison.Ordinal);
        var undoLamp = second.IndexOf("undo Ship(lamp:", StringComparison.Ordinal);
        var undoRefund = second.IndexOf("undo Charge(4800)", StringComparison.Ordinal);
        var undoRelease = second.IndexOf("undo Reserve(R-", StringComparison.Ordinal);
        Assert.True(undoVoid > 0 && undoVoid < undoRefund && undoRefund < undoRelease && undoLamp > undoVoid, second);
        Assert.Contains("idempotency key order-7-piano/WarehouseShipment/3/Ship/0/compensate)", second, StringComparison.Ordinal);
        Assert.Contains("idempotency key order-7-piano/Charge/1/compensate)", second, StringComparison.Ordinal);

        // The tracking mail, added behind a patch: this run reached the patch on the patched code, so it journaled the
        // marker (sequence 5, after Confirm's 4: the two warehouses' child runs are 2 and 3) and took the new branch.
        var confirm = second.IndexOf("step Confirm           done", StringComparison.Ordinal);
        var tracking = second.IndexOf("step SendTracking      done", StringComparison.Ordinal);
        Assert.True(confirm > 0 && tracking > confirm, second);
        Assert.Contains("idempotency key order-7/SendTracking/6)", second, StringComparison.Ordinal);

        var third = RunSample(killAfter: null);
        Assert.DoesNotContain("step ", third, StringComparison.Ordinal);
        Assert.DoesNotContain("undo ", third, StringComparison.Ordinal);
        Assert.Contains($"Order order-7: done. reservation {reservation}", third, StringComparison.Ordinal);
        Assert.Contains("Order order-7-piano: failed and rolled back.", third, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task With_the_dashboard_switch_the_sample_serves_its_orders_in_the_dashboard()
    {
        var url = $"http://127.0.0.1:{FreePort()}";
        using var sample = SampleProcess.Start(_directory, ["order-9", "--dashboard", $"--Sample:DashboardUrl={url}", $"--Durably:Database={Database}", "--Sample:StepDelayMs=20"]);
        using var http = new HttpClient();
        var deadline = Stopwatch.StartNew();
        while (!sample.Output.Contains("the dashboard stays up", StringComparison.Ordinal))
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), $"the sample did not finish its orders: {sample.Output}");
            await Task.Delay(50);
        }

        var runs = await http.GetStringAsync($"{url}/durably/runs");
        var piano = await http.GetStringAsync($"{url}/durably/run?id=order-9-piano");
        var output = sample.Kill();

        Assert.Contains($"Dashboard: {url}/durably", output, StringComparison.Ordinal);
        Assert.Contains("order-9", runs, StringComparison.Ordinal);
        Assert.Contains("order-9-piano", runs, StringComparison.Ordinal);
        Assert.Contains("The run failed", piano, StringComparison.Ordinal);
        Assert.Contains("The warehouse cannot ship", piano, StringComparison.Ordinal);
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    private string RunSample(string? killAfter)
        => SampleProcess.Run(_directory, ["order-7", $"--Durably:Database={Database}", "--Sample:StepDelayMs=200"], killAfter);
}

/// <summary>
/// The sample on PostgreSQL, switched by one setting, as two worker processes sharing one database: one is killed
/// mid-order, and the other — which keeps running after its own order — finishes the killed worker's order once its
/// lease expires, without repeating a journaled step.
/// </summary>
public sealed class PostgresSampleTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("durably-sample-pg-").FullName;

    [Fact]
    public async Task Two_sample_workers_share_one_database_and_one_finishes_the_order_of_the_other_after_a_kill()
    {
        string[] Arguments(string order, string worker) =>
            [order, $"--Durably:Postgres={database.ConnectionString}", $"--Durably:WorkerName={worker}", "--Durably:LeaseDuration=00:00:02", "--Sample:StepDelayMs=200"];

        var killed = SampleProcess.Run(_directory, Arguments("order-7", "worker-a"), killAfter: "step Ship(");
        Assert.DoesNotContain("Order order-7: done.", killed, StringComparison.Ordinal);
        await using var store = PostgresWorkflowStore.Open(database.ConnectionString);
        var journaled = (await store.LoadAsync("order-7", default))!.Journal
            .Where(e => e.State == JournalEntryState.Completed)
            .Select(e => StepContext.CreateIdempotencyKey("order-7", e.OperationId, e.Sequence))
            .ToList();
        Assert.Contains("order-7/Charge/1", journaled);

        using var survivor = SampleProcess.Start(_directory, [.. Arguments("order-8", "worker-b"), "--Sample:KeepRunning=true"]);
        var deadline = Stopwatch.StartNew();
        while ((await store.GetRunAsync("order-7", default))!.Status != WorkflowStatus.Completed
            || !survivor.Output.Contains("Working on other runs until stopped", StringComparison.Ordinal))
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), $"worker-b did not finish order-7: {survivor.Output}");
            await Task.Delay(100);
        }

        var output = survivor.Kill();
        Assert.Contains("Order order-8: done.", output, StringComparison.Ordinal);
        Assert.Contains("Order order-8-piano: failed and rolled back.", output, StringComparison.Ordinal);
        Assert.Contains("Working on other runs until stopped", output, StringComparison.Ordinal);
        Assert.Contains("idempotency key order-7/Confirm/", output, StringComparison.Ordinal);
        Assert.All(journaled, key => Assert.DoesNotContain($"idempotency key {key})", output, StringComparison.Ordinal));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
