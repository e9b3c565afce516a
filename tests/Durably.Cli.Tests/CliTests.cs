using System.Text.Json;
using Durably.Runtime;
using Durably.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Cli.Tests;

/// <summary>
/// The packed <c>durably</c> tool against a real store, the same on a SQLite file and on the test PostgreSQL: runs are
/// made by an engine in this process, the tool reads them and acts on them, and the engine then carries out what it
/// asked. Every exit code the reference documents is reached.
/// </summary>
[Collection(PackedToolCollection.Name)]
public abstract class CliTests : IAsyncLifetime
{
    private readonly PackedTool _tool;
    private readonly Carrier _carrier = new();
    private ServiceProvider _services = null!;

    protected CliTests(PackedTool tool) => _tool = tool;

    /// <summary>The tool's arguments that name this store.</summary>
    protected abstract string[] StoreArguments { get; }

    protected abstract void UseStore(DurableOptions options);

    private DurableEngine Engine => _services.GetRequiredService<DurableEngine>();

    private IDurableClient Client => _services.GetRequiredService<IDurableClient>();

    public virtual Task InitializeAsync()
    {
        var services = new ServiceCollection();
        services.AddSingleton(_carrier);
        services.AddDurably(UseStore).AddWorkflow<Shipment>().AddWorkflow<Approval>();
        _services = services.BuildServiceProvider();
        return Task.CompletedTask;
    }

    public virtual async Task DisposeAsync() => await _services.DisposeAsync();

    private CliResult Durably(params string[] arguments) => _tool.Run(null, [.. arguments, .. StoreArguments]);

    private CliResult Ok(params string[] arguments)
    {
        var result = Durably(arguments);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }

    private async Task ParkAsync(string id)
    {
        _carrier.Down = true;
        await _services.GetRequiredService<ShipmentClient>().StartAsync("ada", id);
        Assert.Equal(WorkflowStatus.DeadLettered, (await Engine.ExecuteAsync(id)).Status);
    }

    private async Task CompleteAsync(string id)
    {
        _carrier.Down = false;
        await _services.GetRequiredService<ShipmentClient>().StartAsync("bob", id);
        Assert.Equal(WorkflowStatus.Completed, (await Engine.ExecuteAsync(id)).Status);
    }

    private async Task WaitingAsync(string id, string? key = null)
    {
        await _services.GetRequiredService<ApprovalClient>().StartAsync("order", new WorkflowStartOptions { WorkflowId = id, InstanceKey = key });
        await Engine.ExecuteAsync(id);
    }

    [Fact]
    public async Task Lists_runs_as_a_table_and_as_json_with_filters_and_pages()
    {
        await CompleteAsync("cli-done");
        await ParkAsync("cli-parked");
        await WaitingAsync("cli-waiting", key: "customer-9");

        var table = Ok("runs", "list");
        var parked = Ok("runs", "list", "--status", "DeadLettered");
        var keyed = Ok("runs", "list", "--key", "customer-9", "--json");
        var versioned = Ok("runs", "list", "--workflow", "Approval", "--workflow-version", "1", "--json");
        var first = Ok("runs", "list", "--limit", "1", "--json");
        var token = JsonDocument.Parse(first.Stdout).RootElement.GetProperty("nextPageToken").GetString()!;
        var second = Ok("runs", "list", "--limit", "1", "--page", token, "--json");

        Assert.StartsWith("ID", table.Stdout, StringComparison.Ordinal);
        Assert.All(new[] { "cli-done", "cli-parked", "cli-waiting", "Shipment v1", "DeadLettered", "customer-9" }, s => Assert.Contains(s, table.Stdout, StringComparison.Ordinal));
        Assert.Contains("3 shown; no more.", table.Stderr, StringComparison.Ordinal);
        Assert.Contains("cli-parked", parked.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("cli-done", parked.Stdout, StringComparison.Ordinal);
        Assert.Equal(["cli-waiting"], Ids(keyed));
        Assert.Equal(["cli-waiting"], Ids(versioned));
        Assert.Equal(["cli-waiting"], Ids(first));
        Assert.Equal(["cli-parked"], Ids(second));

        static string[] Ids(CliResult result)
            => [.. JsonDocument.Parse(result.Stdout).RootElement.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("workflowId").GetString()!)];
    }

    [Fact]
    public async Task Shows_why_a_run_is_parked_and_retries_it_recording_who_and_why()
    {
        await ParkAsync("cli-retry");

        var show = Ok("runs", "show", "cli-retry");
        var letters = Ok("dead-letters", "list");
        var retried = _tool.Run(new Dictionary<string, string> { ["DURABLY_OPERATOR"] = "ci-bot" }, ["dead-letters", "retry", "cli-retry", "--reason", "carrier is back", .. StoreArguments]);
        _carrier.Down = false;
        var resumed = await Engine.ExecuteAsync("cli-retry");
        var json = JsonDocument.Parse(Ok("runs", "show", "cli-retry", "--json").Stdout).RootElement;
        Assert.Equal("""{"Stage":"shipping","Reservation":"reservation-for-ada"}""", json.GetProperty("statusJson").GetString());

        Assert.Contains("Why it is parked: StepFailed", show.Stdout, StringComparison.Ordinal);
        Assert.Contains("at Ship (#1, 2 attempts): System.TimeoutException: carrier timed out", show.Stdout, StringComparison.Ordinal);
        Assert.Contains("cli-retry/Ship/1", show.Stdout, StringComparison.Ordinal);
        Assert.Contains("Published status", show.Stdout, StringComparison.Ordinal);
        Assert.Contains("""{"Stage":"shipping","Reservation":"reservation-for-ada"}""", show.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"ada\"", show.Stdout, StringComparison.Ordinal);
        Assert.Contains("cli-retry", letters.Stdout, StringComparison.Ordinal);
        Assert.Contains("StepFailed", letters.Stdout, StringComparison.Ordinal);
        Assert.True(retried.ExitCode == 0, retried.ToString());
        Assert.Contains("Run 'cli-retry' retried", retried.Stdout, StringComparison.Ordinal);
        Assert.Equal(WorkflowStatus.Completed, resumed.Status);
        Assert.Equal("Completed", json.GetProperty("run").GetProperty("status").GetString());
        var action = json.GetProperty("operatorActions")[0];
        Assert.Equal(("retry", "ci-bot", "carrier is back"), (action.GetProperty("action").GetString(), action.GetProperty("actor").GetString(), action.GetProperty("reason").GetString()));
    }

    [Fact]
    public async Task Cancels_discards_and_signals_and_refuses_what_the_state_does_not_allow()
    {
        await WaitingAsync("cli-signal");
        await WaitingAsync("cli-cancel");
        await ParkAsync("cli-discard");

        var signal = Ok("signal", "cli-signal", "approve", "--payload", """{"By":"ops","Approved":true}""", "--reason", "customer called", "--operator", "alice");
        var cancel = Ok("cancel", "cli-cancel", "--reason", "duplicate order", "--json");
        var discard = Ok("dead-letters", "discard", "cli-discard", "--reason", "customer gave up");
        var retryRunning = Durably("dead-letters", "retry", "cli-signal", "--reason", "by mistake");
        var badPayload = Durably("signal", "cli-signal", "approve", "--payload", "{not json", "--reason", "typo");
        var noReason = Durably("cancel", "cli-signal");
        var blankReason = Durably("cancel", "cli-signal", "--reason", " ");
        var missing = Durably("runs", "show", "no-such-run");
        var bigFile = Path.GetTempFileName();
        await File.WriteAllTextAsync(bigFile, $$"""{"By":"{{new string('b', 2 * 1024 * 1024)}}","Approved":true}""");
        var tooBig = Durably("signal", "cli-cancel", "approve", "--payload-file", bigFile, "--reason", "big");
        var twice = Durably("signal", "cli-cancel", "approve", "--payload", "null", "--payload-file", bigFile, "--reason", "twice");
        var noFile = Durably("signal", "cli-cancel", "approve", "--payload-file", bigFile + ".missing", "--reason", "gone");
        File.Delete(bigFile);

        Assert.Equal(WorkflowStatus.Completed, (await Engine.ExecuteAsync("cli-signal")).Status);
        Assert.Equal("order: approved=True by ops", await Client.WaitForResultAsync<string>("cli-signal"));
        Assert.Contains("Signal 'approve' sent to run 'cli-signal'", signal.Stdout, StringComparison.Ordinal);
        Assert.Equal("Requested", JsonDocument.Parse(cancel.Stdout).RootElement.GetProperty("result").GetString());
        Assert.Equal("duplicate order", (await Client.GetRunAsync("cli-cancel"))!.CancelReason);
        Assert.Contains("discarded", discard.Stdout, StringComparison.Ordinal);
        Assert.Equal("customer gave up", (await Client.GetRunAsync("cli-discard"))!.CancelReason);
        Assert.Equal(4, retryRunning.ExitCode);
        Assert.Contains("Run 'cli-signal' is Running, not", retryRunning.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, badPayload.ExitCode);
        Assert.Contains("is not JSON", badPayload.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, noReason.ExitCode);
        Assert.Contains("Option '--reason' is required", noReason.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, blankReason.ExitCode);
        Assert.Contains("needs a reason", blankReason.Stderr, StringComparison.Ordinal);
        Assert.Equal((2, 2, 2), (tooBig.ExitCode, twice.ExitCode, noFile.ExitCode));
        Assert.Contains("over the limit of 1048576 bytes", tooBig.Stderr, StringComparison.Ordinal);
        Assert.Contains("--payload or --payload-file, not both", twice.Stderr, StringComparison.Ordinal);
        Assert.Contains("which does not exist", noFile.Stderr, StringComparison.Ordinal);
        Assert.Equal(3, missing.ExitCode);
        Assert.Contains("No run has the id 'no-such-run'", missing.Stderr, StringComparison.Ordinal);
        Assert.Equal(["signal:approve"], (await _services.GetRequiredService<DurableOperator>().ListActionsAsync("cli-signal")).Select(a => a.Action));
    }

    [Fact]
    public async Task Purges_ended_runs_with_progress_only_when_confirmed_and_keeps_dead_letters()
    {
        await CompleteAsync("cli-old-1");
        await CompleteAsync("cli-old-2");
        await ParkAsync("cli-kept");
        await WaitingAsync("cli-running");

        var unconfirmed = Durably("purge", "--older-than", "0s");
        var badAge = Durably("purge", "--older-than", "soon", "--yes");
        var purged = Ok("purge", "--older-than", "0s", "--yes");
        var versions = Ok("versions");

        Assert.Equal(2, unconfirmed.ExitCode);
        Assert.Contains("add --yes", unconfirmed.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, badAge.ExitCode);
        Assert.Contains("'soon' is not a duration", badAge.Stderr, StringComparison.Ordinal);
        Assert.Contains("Purged 2 runs", purged.Stdout, StringComparison.Ordinal);
        Assert.Contains("purged 2 runs…", purged.Stderr, StringComparison.Ordinal);
        Assert.Null(await Client.GetRunAsync("cli-old-1"));
        Assert.NotNull(await Client.GetRunAsync("cli-kept"));
        Assert.NotNull(await Client.GetRunAsync("cli-running"));
        Assert.Contains("Approval", versions.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reruns_a_parked_run_from_its_failed_step_and_refuses_what_cannot_be_rerun_with_the_documented_codes()
    {
        await ParkAsync("cli-rerun");
        await WaitingAsync("cli-still-waiting");

        var past = Durably("rerun", "cli-rerun", "--from", "9", "--reason", "typo");
        var running = Durably("rerun", "cli-still-waiting", "--from", "0", "--reason", "too soon");
        var missing = Durably("rerun", "no-such-run", "--from", "0", "--reason", "typo");
        var noReason = Durably("rerun", "cli-rerun", "--from", "1");
        var rerun = Ok("rerun", "cli-rerun", "--from", "1", "--as", "cli-rerun-2", "--reason", "carrier is back");
        _carrier.Down = false;
        var resumed = await Engine.ExecuteAsync("cli-rerun-2");

        Assert.Equal((2, 4, 3, 2), (past.ExitCode, running.ExitCode, missing.ExitCode, noReason.ExitCode));
        Assert.Contains("has operations 0 to 1", past.Stderr, StringComparison.Ordinal);
        Assert.Contains("is still running", running.Stderr, StringComparison.Ordinal);
        Assert.Contains("Run 'cli-rerun-2' created: it replays 'cli-rerun' before operation 1 and runs the rest on a worker.", rerun.Stdout, StringComparison.Ordinal);
        Assert.Equal(WorkflowStatus.Completed, resumed.Status);
        var journal = (await _services.GetRequiredService<IDurableClient>().GetRunDetailsAsync("cli-rerun-2"))!.Operations;
        Assert.Equal([("Reserve", 1), ("Ship", 1)], journal.Select(o => (o.Name, o.Attempts)));
        Assert.Contains("rerun-of:cli-rerun#1", Ok("runs", "show", "cli-rerun-2").Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Terminal_control_characters_in_stored_values_are_printed_inert()
    {
        // Ids cannot hold control characters (the client refuses them), but may hold a bidirectional override.
        const string id = "cli-\u202Eevil";
        _carrier.Refusal = "\u001b]0;pwned\u0007 boom\nsecond line";
        await ParkAsync(id);

        var list = Ok("runs", "list");
        var show = Ok("runs", "show", id);
        var json = Ok("runs", "list", "--json");

        Assert.DoesNotContain('\u001b', list.Stdout + show.Stdout + json.Stdout);
        Assert.DoesNotContain('\u202E', list.Stdout + show.Stdout);
        Assert.Contains("cli-?evil", list.Stdout, StringComparison.Ordinal);
        Assert.Contains("?]0;pwned? boom?second line", show.Stdout, StringComparison.Ordinal);
        Assert.Equal(id, JsonDocument.Parse(json.Stdout).RootElement.GetProperty("runs")[0].GetProperty("workflowId").GetString());
    }

    [Fact]
    public void Without_a_usable_store_it_says_which_and_exits_with_the_documented_code()
    {
        var none = _tool.Run(null, "runs", "list");
        var both = _tool.Run(null, "runs", "list", "--sqlite", "x.db", "--postgres", "Host=127.0.0.1");
        var missingFile = _tool.Run(null, "runs", "list", "--sqlite", Path.Combine(Path.GetTempPath(), "no-such-durably.db"));
        var unknown = _tool.Run(null, "runs", "lst");
        var help = _tool.Run(null, "--help");

        Assert.Equal((2, 2, 5, 2, 0), (none.ExitCode, both.ExitCode, missingFile.ExitCode, unknown.ExitCode, help.ExitCode));
        Assert.Contains("Which store? Pass --sqlite <file> or --postgres", none.Stderr, StringComparison.Ordinal);
        Assert.Contains("name one", both.Stderr, StringComparison.Ordinal);
        Assert.Contains("There is no Durably SQLite file at", missingFile.Stderr, StringComparison.Ordinal);
        Assert.Contains("Unrecognized command or argument 'lst'", unknown.Stderr, StringComparison.Ordinal);
        Assert.Contains("dead-letters", help.Stdout, StringComparison.Ordinal);
    }
}

public sealed class SqliteCliTests(PackedTool tool) : CliTests(tool), IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("durably-cli-sqlite-").FullName;

    private string File => Path.Combine(_directory, "durably.db");

    protected override string[] StoreArguments => ["--sqlite", File];

    protected override void UseStore(DurableOptions options) => options.UseSqlite(File);

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}

public sealed class PostgresCliTests(PackedTool tool, PostgresDatabase database) : CliTests(tool), IClassFixture<PostgresDatabase>
{
    private readonly string _schema = "cli_" + Guid.NewGuid().ToString("N")[..8];

    protected override string[] StoreArguments => ["--postgres", database.ConnectionString, "--schema", _schema];

    protected override void UseStore(DurableOptions options) => options.UsePostgres(database.ConnectionString, p => p.Schema = _schema);
}
