using System.Globalization;
using Durably;
using Durably.Runtime;
using Durably.Runtime.Hosting;
using Microsoft.Extensions.DependencyInjection;

// usage: Durably.CrashHelper <store> <body-log> <runs> <worker-name> [lease-seconds [workflow]]
// <store> is a SQLite file, or "postgres:" followed by a connection string. Starts runs of <workflow> (idempotently, so
// several helpers may share one store) and works until every one has finished, then exits 0. <workflow> is
//   crash          runs crash-0 …: five steps that take a little while each (the default);
//   nap:<seconds>  runs nap-0 …: a step, a durable sleep of that many seconds, a step;
//   signal         runs signal-0 …: a step, a wait without timeout for signal "go" (a string), a step;
//   backoff        runs backoff-0 …: a step whose first attempt fails and is retried after a 3-second backoff;
//   rollback       runs rollback-0 …: three bookings, then a failure that rolls them back with slow compensations.
//   transactional  runs tx-0 … (PostgreSQL): three [Step(Transactional = true)] steps, each inserting a row into table
//                  app_rows in its transaction, logging "start" after the insert, waiting a little, logging "end".
//   patched        runs patch-0 …: a step, then behind Workflow.Patched("insure") a slow step, then a step.
//   family         runs family-0 …: each starts one child workflow (a slow step) and returns the child's result.
//   family-rollback runs undone-0 …: each starts one child (a quick step with a slow compensation), then fails, so
//                  its rollback rolls the child back.
//   parcel-old     runs parcel-old-0 … of workflow "Parcel" on a build that registers only its version 1;
//   parcel-new     runs parcel-new-0 … on a build that registers versions 1 and 2 (so they start as version 2);
//   parcel-idle:<seconds>[:<check-seconds>]  a version-1-only build that starts nothing and works for that many seconds
//                  (checking for runs no live worker can run every check-seconds, 30 by default), then exits;
//                  these three log the worker's Information and higher lines to standard error.
//   single         crash runs with instance keys key-0 …, each started as single-<worker-name>-<i> joining whichever
//                  run already holds the key: helpers racing on one store share one run per key. Once its starts are
//                  done it prints "started" and waits for a line on standard input before it works on them.
const string Usage = "usage: Durably.CrashHelper <store> <body-log> <runs> <worker-name> [lease-seconds [crash|nap:<seconds>|signal|backoff|rollback|single|transactional|patched|family|family-rollback|parcel-old|parcel-new|parcel-idle:<seconds>]]";
var workflow = args.Length == 6 ? args[5] : "crash";
if (args.Length is < 4 or > 6 || !int.TryParse(args[2], CultureInfo.InvariantCulture, out var runs) || runs < 1
    || (args.Length >= 5 && !double.TryParse(args[4], CultureInfo.InvariantCulture, out _))
    || !(workflow is "crash" or "signal" or "backoff" or "rollback" or "single" or "transactional" or "patched" or "family" or "family-rollback" or "parcel-old" or "parcel-new"
        || (workflow.StartsWith("nap:", StringComparison.Ordinal) && double.TryParse(workflow[4..], CultureInfo.InvariantCulture, out _))
        || (workflow.StartsWith("parcel-idle:", StringComparison.Ordinal) && workflow[12..].Split(':').All(n => double.TryParse(n, CultureInfo.InvariantCulture, out _)))))
{
    Console.Error.WriteLine(Usage);
    return 2;
}

const string PostgresPrefix = "postgres:";
var services = new ServiceCollection();
services.AddSingleton(new BodyLog(args[1]));
var durably = services.AddDurably(o =>
{
    if (args[0].StartsWith(PostgresPrefix, StringComparison.Ordinal))
    {
        o.UsePostgres(args[0][PostgresPrefix.Length..]);
    }
    else
    {
        o.UseSqlite(args[0]);
    }

    o.WorkerName = args[3];
    o.MaxConcurrentRuns = 4;
    if (args.Length >= 5)
    {
        o.LeaseDuration = TimeSpan.FromSeconds(double.Parse(args[4], CultureInfo.InvariantCulture));
    }

    if (workflow.StartsWith("parcel-idle:", StringComparison.Ordinal) && workflow[12..].Split(':') is [_, var check])
    {
        o.VersionCheckInterval = TimeSpan.FromSeconds(double.Parse(check, CultureInfo.InvariantCulture));
    }
}).AddWorkflow<CrashWorkflow>().AddWorkflow<PatchedWorkflow>().AddWorkflow<NapWorkflow>().AddWorkflow<SignalWorkflow>().AddWorkflow<BackoffWorkflow>().AddWorkflow<RollbackWorkflow>()
    .AddWorkflow<FamilyParent>().AddWorkflow<FamilyChild>().AddWorkflow<UndoneFamilyParent>().AddWorkflow<UndoneFamilyChild>();
var parcels = workflow.StartsWith("parcel-", StringComparison.Ordinal);
if (parcels)
{
    // Two builds of one application: the old one has only version 1 of "Parcel", the new one keeps it beside version 2.
    durably.AddWorkflow<ParcelV1>();
    if (workflow == "parcel-new")
    {
        durably.AddWorkflow<ParcelV2>();
    }

    services.AddSingleton<Microsoft.Extensions.Logging.ILoggerFactory>(new StandardErrorLoggerFactory());
}
if (workflow == "transactional")
{
    // Only here: a transactional step needs PostgreSQL, and an engine on another store refuses to start with one.
    durably.AddWorkflow<TxWorkflow>();
    await using var setup = new Npgsql.NpgsqlConnection(args[0][PostgresPrefix.Length..]);
    await setup.OpenAsync();
    await using var create = new Npgsql.NpgsqlCommand(
        "CREATE TABLE IF NOT EXISTS app_rows (workflow_id text NOT NULL, sequence bigint NOT NULL, idempotency_key text NOT NULL, attempt integer NOT NULL)", setup);
    await create.ExecuteNonQueryAsync();
}

await using var provider = services.BuildServiceProvider();

var handles = new List<Task>();
if (workflow.StartsWith("parcel-idle:", StringComparison.Ordinal))
{
    // Starts nothing: works for a while beside whatever is in the store, then stops.
    var idle = provider.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<DurableWorker>().Single();
    await idle.StartAsync(default);
    await Task.Delay(TimeSpan.FromSeconds(double.Parse(workflow[12..].Split(':')[0], CultureInfo.InvariantCulture)));
    await idle.StopAsync(default);
    return 0;
}

for (var i = 0; i < runs; i++)
{
    if (workflow.StartsWith("nap:", StringComparison.Ordinal))
    {
        var nap = await provider.GetRequiredService<NapWorkflowClient>().StartAsync(double.Parse(workflow[4..], CultureInfo.InvariantCulture), $"nap-{i}");
        handles.Add(nap.WaitForResultAsync());
    }
    else if (workflow == "backoff")
    {
        handles.Add((await provider.GetRequiredService<BackoffWorkflowClient>().StartAsync($"backoff-{i}")).WaitForResultAsync());
    }
    else if (workflow == "rollback")
    {
        handles.Add(EndedAsync((await provider.GetRequiredService<RollbackWorkflowClient>().StartAsync($"rollback-{i}")).WaitForResultAsync()));
    }
    else if (workflow == "transactional")
    {
        handles.Add((await provider.GetRequiredService<TxWorkflowClient>().StartAsync(i, $"tx-{i}")).WaitForResultAsync());
    }
    else if (workflow == "single")
    {
        var options = new WorkflowStartOptions { WorkflowId = $"single-{args[3]}-{i}", InstanceKey = $"key-{i}" };
        handles.Add((await provider.GetRequiredService<CrashWorkflowClient>().StartAsync(i, options)).WaitForResultAsync());
    }
    else if (workflow == "family-rollback")
    {
        var parent = await provider.GetRequiredService<UndoneFamilyParentClient>().StartAsync(i, $"undone-{i}");
        handles.Add(RolledBackAsync(parent.WaitForResultAsync(), provider.GetRequiredService<IDurableClient>(), $"undone-{i}/UndoneFamilyChild/0"));
    }
    else if (workflow == "family")
    {
        handles.Add((await provider.GetRequiredService<FamilyParentClient>().StartAsync(i, $"family-{i}")).WaitForResultAsync());
    }
    else if (workflow == "patched")
    {
        handles.Add((await provider.GetRequiredService<PatchedWorkflowClient>().StartAsync(i, $"patch-{i}")).WaitForResultAsync());
    }
    else if (workflow == "parcel-old")
    {
        handles.Add((await provider.GetRequiredService<ParcelV1Client>().StartAsync($"to-{i}", $"parcel-old-{i}")).WaitForResultAsync());
    }
    else if (workflow == "parcel-new")
    {
        handles.Add((await provider.GetRequiredService<ParcelV2Client>().StartAsync($"to-{i}", $"parcel-new-{i}")).WaitForResultAsync());
    }
    else if (workflow == "signal")
    {
        handles.Add((await provider.GetRequiredService<SignalWorkflowClient>().StartAsync($"signal-{i}")).WaitForResultAsync());
    }
    else
    {
        handles.Add((await provider.GetRequiredService<CrashWorkflowClient>().StartAsync(i, $"crash-{i}")).WaitForResultAsync());
    }
}

if (workflow == "single")
{
    // No run can end (and free its key) before every racing helper has made its starts.
    Console.WriteLine("started");
    Console.In.ReadLine();
}

var worker = provider.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<DurableWorker>().Single();
await worker.StartAsync(default);
await Task.WhenAll(handles);
await worker.StopAsync(default);
Console.WriteLine("all runs finished");
return 0;

// A rolled-back run ends Failed by design: the test reads how from the store.
// A parent that failed, and then its child, which the parent's rollback reopened, rolled back and cancelled.
static async Task RolledBackAsync(Task parent, IDurableClient client, string childId)
{
    await EndedAsync(parent);
    try
    {
        await client.WaitForResultAsync<string>(childId);
    }
    catch (WorkflowFailedException cancelled) when (cancelled.Status == WorkflowStatus.Cancelled)
    {
    }
}

static async Task EndedAsync(Task result)
{
    try
    {
        await result;
    }
    catch (WorkflowFailedException failed) when (failed.Status == WorkflowStatus.Failed)
    {
    }
}

/// <summary>Appends one line per body event to a side file that outlives a killed process.</summary>
internal sealed class BodyLog(string path)
{
    private readonly Lock _gate = new();

    public void Write(string what)
    {
        var step = StepContext.Current!;
        var line = string.Join(' ', what, step.WorkflowId, step.Sequence, step.Attempt, step.IdempotencyKey,
            DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()) + "\n";
        lock (_gate)
        {
            File.AppendAllText(path, line);
        }
    }
}

/// <summary>Writes the runtime's Information and higher log lines to standard error, one line each.</summary>
internal sealed class StandardErrorLoggerFactory : Microsoft.Extensions.Logging.ILoggerFactory, Microsoft.Extensions.Logging.ILogger
{
    public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => this;

    public void AddProvider(Microsoft.Extensions.Logging.ILoggerProvider provider) => throw new NotSupportedException();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull
        => null;

    public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => logLevel >= Microsoft.Extensions.Logging.LogLevel.Information;

    public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel))
        {
            Console.Error.WriteLine($"{logLevel}: {formatter(state, exception).ReplaceLineEndings(" ")}");
        }
    }

    public void Dispose()
    {
    }
}

/// <summary>A step, then a slow step behind a patch — where a kill lands — then a step.</summary>
[DurableWorkflow]
internal partial class PatchedWorkflow(BodyLog log)
{
    [WorkflowRun]
    public async Task<string> RunAsync(int number)
    {
        await Pack(number);
        var insured = Workflow.Patched("insure") && await Insure(number);
        await Ship(number);
        return insured ? "insured" : "plain";
    }

    [Step]
    private Task Pack(int number)
    {
        log.Write("pack");
        return Task.CompletedTask;
    }

    [Step]
    private async Task<bool> Insure(int number)
    {
        log.Write("start");
        await Task.Delay(Random.Shared.Next(50, 150));
        log.Write("end");
        return true;
    }

    [Step]
    private Task Ship(int number)
    {
        log.Write("ship");
        return Task.CompletedTask;
    }
}

/// <summary>Version 1 of "Parcel": labels the parcel.</summary>
[DurableWorkflow(Name = "Parcel", Version = 1)]
internal partial class ParcelV1(BodyLog log)
{
    [WorkflowRun]
    public async Task<string> RunAsync(string to) => await Label(to);

    [Step]
    private async Task<string> Label(string to)
    {
        log.Write("v1-label");
        await Task.Delay(Random.Shared.Next(20, 60));
        return "v1 " + to;
    }
}

/// <summary>Version 2 of "Parcel": weighs it first, a step version 1's runs never had.</summary>
[DurableWorkflow(Name = "Parcel", Version = 2)]
internal partial class ParcelV2(BodyLog log)
{
    [WorkflowRun]
    public async Task<string> RunAsync(string to)
    {
        await Weigh(to);
        return await Label(to);
    }

    [Step]
    private async Task<int> Weigh(string to)
    {
        log.Write("v2-weigh");
        await Task.Delay(Random.Shared.Next(20, 60));
        return to.Length;
    }

    [Step]
    private Task<string> Label(string to)
    {
        log.Write("v2-label");
        return Task.FromResult("v2 " + to);
    }
}

/// <summary>Five steps that take a little while each, so that a kill lands inside one.</summary>
[DurableWorkflow]
internal partial class CrashWorkflow(BodyLog log)
{
    [WorkflowRun]
    public async Task<string> RunAsync(int number)
    {
        var total = 0;
        for (var step = 0; step < 5; step++)
        {
            total += await Work(number, step);
        }

        return $"{number}:{total}";
    }

    [Step]
    private async Task<int> Work(int number, int step)
    {
        log.Write("start");
        await Task.Delay(Random.Shared.Next(10, 40));
        log.Write("end");
        return number + step;
    }
}

/// <summary>A step, a durable sleep, a step: a kill during the sleep must neither lose nor restart the wait.</summary>
[DurableWorkflow]
internal partial class NapWorkflow(BodyLog log)
{
    [WorkflowRun]
    public async Task<DateTimeOffset> RunAsync(double seconds)
    {
        await Mark("before");
        await Workflow.SleepAsync(TimeSpan.FromSeconds(seconds));
        await Mark("after");
        return Workflow.Now;
    }

    [Step]
    private Task<string> Mark(string what)
    {
        log.Write(what);
        return Task.FromResult(what);
    }
}

/// <summary>A step, a wait for signal "go", a step: a signal sent while no worker runs must be delivered after a restart.</summary>
[DurableWorkflow]
internal partial class SignalWorkflow(BodyLog log)
{
    [WorkflowRun]
    public async Task<string> RunAsync()
    {
        await Mark("before");
        var go = await WaitForGoAsync(Timeout.InfiniteTimeSpan);
        await Mark("after");
        return go.Payload!;
    }

    [Signal(Name = "go")]
    private partial Task<SignalResult<string>> WaitForGoAsync(TimeSpan timeout);

    [Step]
    private Task<string> Mark(string what)
    {
        log.Write(what);
        return Task.FromResult(what);
    }
}

/// <summary>A step whose first attempt fails: a kill during its journaled backoff must neither lose nor shorten it.</summary>
[DurableWorkflow]
internal partial class BackoffWorkflow(BodyLog log)
{
    [WorkflowRun]
    public async Task<int> RunAsync() => await Charge();

    [Step(MaxAttempts = 3, InitialDelay = "3s", Jitter = 0)]
    private Task<int> Charge()
    {
        log.Write("attempt");
        var attempt = StepContext.Current!.Attempt;
        return attempt == 1 ? Task.FromException<int>(new TimeoutException("gateway busy")) : Task.FromResult(attempt);
    }
}

/// <summary>Three bookings, then a failure: the bookings are undone by compensations slow enough for a kill to land among them.</summary>
[DurableWorkflow(OnFailure = FailureRule.Compensate)]
internal partial class RollbackWorkflow(BodyLog log)
{
    [WorkflowRun]
    public async Task RunAsync()
    {
        for (var item = 0; item < 3; item++)
        {
            await Book(item);
        }

        await Fail();
    }

    [Step(Compensate = nameof(Unbook))]
    private Task<int> Book(int item)
    {
        log.Write("book");
        return Task.FromResult(item);
    }

    private async Task Unbook(int item)
    {
        log.Write("undo-start");
        await Task.Delay(400);
        log.Write("undo-end");
    }

    [Step]
    private Task Fail() => Task.FromException(new InvalidOperationException("out of stock"));
}

/// <summary>Three transactional steps: each writes a row in its own transaction, which commits with the step's journal row.</summary>
[DurableWorkflow]
internal partial class TxWorkflow(BodyLog log)
{
    [WorkflowRun]
    public async Task<int> RunAsync(int number)
    {
        var total = 0;
        for (var step = 0; step < 3; step++)
        {
            total += await Write(number, step);
        }

        return total;
    }

    [Step(Transactional = true)]
    private async Task<int> Write(int number, int step)
    {
        var context = StepContext.Current!;
        var db = context.GetPostgresTransaction();
        await using (var insert = new Npgsql.NpgsqlCommand(
            "INSERT INTO app_rows (workflow_id, sequence, idempotency_key, attempt) VALUES (@id, @sequence, @key, @attempt)", db.Connection, db.Transaction))
        {
            insert.Parameters.AddWithValue("id", context.WorkflowId);
            insert.Parameters.AddWithValue("sequence", context.Sequence);
            insert.Parameters.AddWithValue("key", context.IdempotencyKey);
            insert.Parameters.AddWithValue("attempt", context.Attempt);
            await insert.ExecuteNonQueryAsync();
        }

        // The row is written but not committed: a kill from here to the commit must leave neither it nor the journal row.
        log.Write("start");
        await Task.Delay(Random.Shared.Next(50, 150));
        log.Write("end");
        return number + step;
    }
}
