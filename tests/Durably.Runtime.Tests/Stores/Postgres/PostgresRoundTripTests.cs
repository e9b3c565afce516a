using Durably.Runtime.Journal;
using System.Collections.Concurrent;
using System.Diagnostics;
using Durably.Runtime.Stores;
using Durably.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Durably.Runtime.Tests.Stores.Postgres;

/// <summary>
/// Round trips and wake-ups on PostgreSQL, counted from Npgsql's own tracing (one activity per command or batch sent):
/// start is one round trip, a claimed run's journal is read once, a completed step is one statement, and
/// <c>LISTEN/NOTIFY</c> fires on start and result, never per step, with polling as the fallback.
/// </summary>
public sealed class PostgresRoundTripTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IDisposable
{
    // Twice the usual wait: these tests stop, restart and starve a real database server.
    private static readonly TimeSpan s_timeout = Wait.Timeout * 2;
    private readonly string _schema = "trips_" + Guid.NewGuid().ToString("N")[..12];
    private readonly ConcurrentQueue<string> _statements = new();
    private ActivityListener? _listener;

    private PostgresWorkflowStore OpenStore() => PostgresWorkflowStore.Open(database.ConnectionString, new PostgresStoreOptions { Schema = _schema });

    private void StartCounting() => _listener ??= SentStatements.Listen(_schema, _statements);

    private string[] TakeStatements() => SentStatements.Take(_statements);

    private static bool IsWorkerTimer(string statement) => SentStatements.IsWorkerTimer(statement);

    [Fact]
    public async Task Start_is_one_round_trip_the_journal_is_read_once_and_a_completed_step_is_one_statement()
    {
        var log = new BodyLog();
        await using var host = new TestHost(OpenStore(), d => d.AddWorkflow<FiveSteps>(), s => s.AddSingleton(log).AddSingleton(Gate.Open()));
        var client = host.Get<FiveStepsClient>();
        await client.StartAsync("warm-up", "trips-0");
        await host.Engine.ExecuteAsync("trips-0").WaitAsync(s_timeout);
        StartCounting();
        TakeStatements();

        await client.StartAsync("order-1", "trips-1");
        var start = TakeStatements();
        var result = await host.Engine.ExecuteAsync("trips-1").WaitAsync(s_timeout);

        // The worker row's heartbeat and advertisement run on a timer, not per execution: a slow machine sees more of them.
        var execution = TakeStatements().Where(s => !IsWorkerTimer(s)).ToArray();
        var listing = string.Join("\n", execution.Select(s => s.ReplaceLineEndings(" ")[..Math.Min(120, s.ReplaceLineEndings(" ").Length)]));

        Assert.Equal(ExecutionOutcome.Finished, result.Outcome);
        Assert.Single(start);
        var journalReads = execution.Count(s => s.Contains(".journal WHERE workflow_id = @id ORDER BY sequence", StringComparison.Ordinal));
        var completions = execution.Count(s => s.Contains("completed_at = excluded.completed_at", StringComparison.Ordinal));
        var attempts = execution.Count(s => s.Contains("attempts = j.attempts + 1", StringComparison.Ordinal));
        Assert.Equal(1, journalReads);
        Assert.Equal(5, completions);
        // The first live attempt's row is waited for; later ones are sent as their bodies start, and one still queued
        // when its outcome is written is not sent at all.
        Assert.InRange(attempts, 1, 5);

        // Read the run, claim it, load it in one batch, at most two writes per step, end it: nothing else.
        Assert.True(3 + completions + attempts + 1 == execution.Length, $"{execution.Length} statements, expected {3 + completions + attempts + 1}:\n{listing}");
    }

    /// <summary>
    /// After an execution's first step, an attempting row is sent only for a body that yields (or fails): a body that
    /// finishes before it yields has its outcome as its one write; one that throws as it is called gets its row, which
    /// its retry then finds.
    /// </summary>
    [Fact]
    public async Task A_body_that_finishes_before_it_yields_has_no_attempting_row_and_one_that_throws_as_it_is_called_has_one()
    {
        await using var host = new TestHost(OpenStore(), d => d.AddWorkflow<YieldingOrNot>());
        var client = host.Get<YieldingOrNotClient>();
        await client.StartAsync("warm", "yielding-0");
        await host.Engine.ExecuteAsync("yielding-0").WaitAsync(s_timeout);
        await client.StartAsync("order", "yielding-1");
        StartCounting();
        TakeStatements();

        var result = await host.Engine.ExecuteAsync("yielding-1").WaitAsync(s_timeout);
        var statements = TakeStatements().Where(s => !IsWorkerTimer(s)).ToArray();
        var attempting = statements.Count(s => s.Contains("attempts = j.attempts + 1", StringComparison.Ordinal));
        var journal = (await host.Store.LoadAsync("yielding-1", default))!;

        Assert.Equal((WorkflowStatus.Completed, "\"order-plain-at-once-yielded-second-attempt\""), (journal.Run.Status, journal.Run.OutputJson));
        // Plain's (the execution's first, waited for), ThrowsOnce's first (sent as it failed), and Yields' unless its
        // outcome overtook it in the queue; none for AtOnce, nor for ThrowsOnce's second attempt, which finished at once.
        Assert.InRange(attempting, 2, 3);
        var throwsOnce = Assert.Single(journal.Journal, e => e.OperationId == "ThrowsOnce");
        Assert.Equal((JournalEntryState.Completed, 2), (throwsOnce.State, throwsOnce.Attempts));
        Assert.All(journal.Journal, e => Assert.Equal(JournalEntryState.Completed, e.State));
        Assert.Equal(1, Assert.Single(journal.Journal, e => e.OperationId == "AtOnce").Attempts);
    }

    /// <summary>
    /// A run that ends before its first write: its row goes once, already ended, in one durable statement (no create
    /// before it, no barrier), and the caller who then waits is handed its outcome (no read, no watch) — one round trip
    /// from start to result.
    /// </summary>
    [Fact]
    public async Task A_run_without_steps_started_beside_its_worker_is_one_round_trip_its_row_written_already_ended()
    {
        await using var host = new TestHost(OpenStore(), d => d.AddWorkflow<NoSteps>(), workerName: "beside-0", options: o => o.PollInterval = TimeSpan.FromHours(1));
        await host.Worker.StartAsync(default);
        try
        {
            await Wait.UntilAsync(() => host.Engine.Context.LocalRunner is not null, "the worker never made its first claim");
            var client = host.Get<NoStepsClient>();
            Assert.Equal("warm-done", await (await client.StartAsync("warm", "none-warm")).WaitForResultAsync().WaitAsync(s_timeout));
            StartCounting();
            TakeStatements();

            var results = new List<string>();
            for (var i = 0; i < 5; i++)
            {
                var handle = await client.StartAsync($"order-{i}", $"none-{i}");
                results.Add(await handle.WaitForResultAsync().WaitAsync(s_timeout));
            }

            var statements = TakeStatements().Where(s => !IsWorkerTimer(s)).ToArray();
            var listing = string.Join("\n", statements.Select(s => s.ReplaceLineEndings(" ")[..Math.Min(100, s.ReplaceLineEndings(" ").Length)]));

            Assert.Equal(Enumerable.Range(0, 5).Select(i => $"order-{i}-done"), results);
            // Per run: its ended row, durably. An early create, a separate end, a barrier or a read would be a second.
            Assert.True(statements.Length == 5, listing);
            Assert.All(statements, s => Assert.Contains($"INSERT INTO \"{_schema}\".runs", s, StringComparison.Ordinal));
            Assert.DoesNotContain(statements, s => s.Contains("synchronous_commit", StringComparison.Ordinal));
            Assert.Equal(0, host.Engine.Context.RunsWaitedFor);
            for (var i = 0; i < 5; i++)
            {
                var stored = (await host.Store.GetRunAsync($"none-{i}", default))!;
                Assert.Equal((WorkflowStatus.Completed, $"\"order-{i}-done\"", null, 1L), (stored.Status, stored.OutputJson, stored.Owner, stored.Epoch));
                Assert.Empty((await host.Store.LoadAsync($"none-{i}", default))!.Journal);
            }
        }
        finally
        {
            await host.Worker.StopAsync(default);
        }
    }

    [Fact]
    public async Task A_run_started_beside_its_running_worker_runs_there_without_a_claim_a_read_or_a_notification_of_work()
    {
        await using var listening = await Listener.StartAsync(database.ConnectionString, $"{_schema}_events");

        // The worker polls once an hour: whatever runs the run, it is not a poll.
        var gate = new Gate();
        await using var host = new TestHost(OpenStore(), d => d.AddWorkflow<FiveSteps>(), s => s.AddSingleton(new BodyLog()).AddSingleton(gate),
            workerName: "beside", options: o => o.PollInterval = TimeSpan.FromHours(1));
        await host.Worker.StartAsync(default);
        try
        {
            await Wait.UntilAsync(() => host.Engine.Context.LocalRunner is not null, "the worker never made its first claim");
            StartCounting();
            TakeStatements();

            var handle = await host.Get<FiveStepsClient>().StartAsync("order-1", "beside-1");
            // The caller waits while the run runs here (a caller that comes after the end reads the store once).
            await gate.Arrived.WaitAsync(s_timeout);
            var result = handle.WaitForResultAsync();
            gate.Release();
            Assert.StartsWith("order-1-1-", await result.WaitAsync(s_timeout), StringComparison.Ordinal);
            var statements = TakeStatements();

            // Created held by the worker, at most two writes per step (an attempting row still queued when its outcome is
            // written is not sent), ended: no claim, no read of the run or its journal.
            var stepWrites = statements.Count(s => s.Contains("completed_at = excluded.completed_at", StringComparison.Ordinal) || s.Contains("attempts = j.attempts + 1", StringComparison.Ordinal));
            Assert.InRange(stepWrites, 1 + 5, 2 * 5);
            // The start is an early one: one round trip creates the run with a commit that does not wait for the flush. The
            // first step's outcome makes it durable, or — when the run waited for the step's body first — one barrier (a
            // share lock of the run's row) sent beside it. The end is one round trip (one entry here): the fenced update,
            // the end's lock, the look for watchers.
            var barriers = statements.Count(s => s.StartsWith("WITH held AS (SELECT workflow_id FROM", StringComparison.Ordinal) && s.Contains("FOR SHARE) SELECT NULL", StringComparison.Ordinal));
            Assert.InRange(barriers, 0, 1);
            Assert.True(statements.Length == 1 + barriers + stepWrites + 1, string.Join("\n", statements));
            var create = Assert.Single(statements, s => s.Contains("INSERT INTO", StringComparison.Ordinal) && s.Contains(".runs (", StringComparison.Ordinal));
            Assert.StartsWith("SELECT set_config('synchronous_commit', 'off', true);", create, StringComparison.Ordinal);
            Assert.Single(statements, s => s.Contains("pg_advisory_xact_lock", StringComparison.Ordinal));
            Assert.DoesNotContain(statements, s => s.Contains("epoch = r.epoch + 1", StringComparison.Ordinal));
            Assert.DoesNotContain(statements, s => s.StartsWith("SELECT", StringComparison.Ordinal) && !s.Contains("pg_advisory_xact_lock", StringComparison.Ordinal) && s != create);
            var run = (await host.Store.GetRunAsync("beside-1", default))!;
            Assert.Equal((WorkflowStatus.Completed, 1L), (run.Status, run.Epoch));
            Assert.Equal(0, host.Engine.Context.RunsWaitedFor);

            // Nothing is announced: no idle worker needed waking for a run that was already taken, and its caller, waiting
            // in the process that ran it, was handed the result rather than watching for it.
            Assert.Empty(await listening.ReceivedAsync());
        }
        finally
        {
            await host.Worker.StopAsync(default);
        }
    }

    [Fact]
    public async Task A_start_notifies_listeners_a_result_only_when_watched_and_steps_never_do()
    {
        await using var listening = await Listener.StartAsync(database.ConnectionString, $"{_schema}_events");

        await using var host = new TestHost(OpenStore(), d => d.AddWorkflow<FiveSteps>(), s => s.AddSingleton(new BodyLog()).AddSingleton(Gate.Open()));
        await host.Get<FiveStepsClient>().StartAsync("order-1", "notify-1");
        await host.Engine.ExecuteAsync("notify-1").WaitAsync(s_timeout);
        Assert.Equal(["available"], await listening.ReceivedAsync());

        // Watched (as a caller in another process watches it when it reads it running), its end is announced once.
        var watches = Assert.IsAssignableFrom<IWorkflowStoreWatches>(host.Store);
        await host.Get<FiveStepsClient>().StartAsync("order-2", "notify-2");
        Assert.Equal(WorkflowStatus.Running, (await watches.WatchRunAsync("notify-2", default))!.Status);
        Assert.Equal(WorkflowStatus.Running, (await watches.WatchRunAsync("notify-2", default))!.Status);
        await host.Engine.ExecuteAsync("notify-2").WaitAsync(s_timeout);
        Assert.Equal(["available", "available", "finished:notify-2"], await listening.ReceivedAsync());

        // Watching an ended run marks nothing: the read already says it ended.
        Assert.Equal(WorkflowStatus.Completed, (await watches.WatchRunAsync("notify-1", default))!.Status);
        Assert.Null(await watches.WatchRunAsync("no-such-run", default));
        Assert.Equal(0L, await database.ScalarAsync($"SELECT count(*) FROM \"{_schema}\".run_watchers"));
    }

    [Fact]
    public async Task Watches_and_ends_racing_on_many_runs_lose_no_wake_up()
    {
        // Callers in another process (no worker there) wait for 40 runs that a worker ends while they start watching.
        // Their fallback poll is 10 s: a wait that took less than that was woken by the announcement it asked for.
        await using var worker = new TestHost(OpenStore(), d => d.AddWorkflow<FiveSteps>(), s => s.AddSingleton(new BodyLog()).AddSingleton(Gate.Open()),
            workerName: "racing-worker", options: o => o.PollInterval = TimeSpan.FromMilliseconds(100));
        await using var caller = new TestHost(OpenStore(), d => d.AddWorkflow<FiveSteps>(), s => s.AddSingleton(new BodyLog()).AddSingleton(Gate.Open()),
            workerName: "racing-caller");
        await worker.Worker.StartAsync(default);
        try
        {
            var ids = Enumerable.Range(0, 40).Select(i => $"race-{i}").ToList();
            foreach (var id in ids)
            {
                await caller.Get<FiveStepsClient>().StartAsync("order", id);
            }

            var waits = ids.Select(id => caller.Client.WaitForResultAsync<string>(id)).ToList();
            var all = Task.WhenAll(waits);
            Assert.Same(all, await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(8))));
            Assert.Equal(0L, await database.ScalarAsync($"SELECT count(*) FROM \"{_schema}\".run_watchers"));
        }
        finally
        {
            await worker.Worker.StopAsync(default);
        }
    }

    [Fact]
    public async Task An_idle_worker_is_woken_by_another_process_starting_a_run_and_the_caller_by_its_result()
    {
        // The worker polls once an hour: only a notification can make it pick the run up in time.
        await using var worker = new TestHost(OpenStore(), d => d.AddWorkflow<FiveSteps>(), s => s.AddSingleton(new BodyLog()).AddSingleton(Gate.Open()),
            workerName: "idle-worker", options: o => o.PollInterval = TimeSpan.FromHours(1));
        await worker.Worker.StartAsync(default);
        await using var caller = new TestHost(OpenStore(), d => d.AddWorkflow<FiveSteps>(), s => s.AddSingleton(new BodyLog()).AddSingleton(Gate.Open()),
            workerName: "caller-without-worker");

        try
        {
            var handle = await caller.Get<FiveStepsClient>().StartAsync("order-1", "woken-1");
            var output = await handle.WaitForResultAsync().WaitAsync(s_timeout);

            Assert.StartsWith("order-1-1-", output, StringComparison.Ordinal);
        }
        finally
        {
            await worker.Worker.StopAsync(default);
        }
    }

    [Fact]
    public async Task A_missed_notification_is_covered_by_polling_and_a_dropped_listener_reconnects()
    {
        var store = OpenStore();
        await using var worker = new TestHost(store, d => d.AddWorkflow<FiveSteps>(), s => s.AddSingleton(new BodyLog()).AddSingleton(Gate.Open()),
            workerName: "polling-worker", options: o => o.PollInterval = TimeSpan.FromMilliseconds(200));
        await worker.Worker.StartAsync(default);
        try
        {
            await Wait.UntilAsync(() => store.ListenerConnections == 1, "the listener never connected");

            // The listening connection is cut: the store listens again on a new one.
            await database.ScalarAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN \"{_schema}_events\"'");
            await Wait.UntilAsync(() => store.ListenerConnections == 2, "the listener never reconnected");

            // A run inserted without any notification (as if it were missed) is found by polling.
            await database.ScalarAsync($"""
                INSERT INTO "{_schema}".runs (workflow_id, workflow_name, version, input_json, status, epoch, created_at, updated_at)
                VALUES ('silent-1', 'FiveSteps', 1, '"order-1"', 0, 0, now(), now())
                """);
            await Wait.UntilAsync(async () => (await store.GetRunAsync("silent-1", default))!.Status == WorkflowStatus.Completed, "run silent-1 never completed");
        }
        finally
        {
            await worker.Worker.StopAsync(default);
        }
    }

    public void Dispose() => _listener?.Dispose();

    /// <summary>A connection listening on one channel, as another process would.</summary>
    private sealed class Listener : IAsyncDisposable
    {
        private readonly NpgsqlConnection _connection;
        private readonly ConcurrentQueue<string> _payloads = new();

        private Listener(NpgsqlConnection connection)
        {
            _connection = connection;
            connection.Notification += (_, e) => _payloads.Enqueue(e.Payload);
        }

        public static async Task<Listener> StartAsync(string connectionString, string channel)
        {
            var listener = new Listener(new NpgsqlConnection(connectionString));
            await listener._connection.OpenAsync();
            await using var listen = new NpgsqlCommand($"LISTEN \"{channel}\"", listener._connection);
            await listen.ExecuteNonQueryAsync();
            return listener;
        }

        /// <summary>The payloads received so far (notifications arrive when the connection next talks to the server: it asks it something first).</summary>
        public async Task<string[]> ReceivedAsync()
        {
            await using (var ping = new NpgsqlCommand("SELECT 1", _connection))
            {
                await ping.ExecuteScalarAsync();
            }

            return [.. _payloads];
        }

        public ValueTask DisposeAsync() => _connection.DisposeAsync();
    }
}
