using System.Net;
using System.Net.Sockets;
using Durably.Runtime.Journal;
using Durably.Runtime.Stores;
using Durably.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Durably.Runtime.Tests.Stores.Postgres;

/// <summary>Schema creation and migration, configuration, and bad input of the PostgreSQL store.</summary>
public sealed class PostgresStoreTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    private static string NewSchema() => "store_" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public async Task Workers_starting_at_once_create_one_versioned_schema_and_reopening_changes_nothing()
    {
        var schema = NewSchema();
        var options = new PostgresStoreOptions { Schema = schema };

        // Eight "workers" start together on an empty database: the advisory lock lets one migrate, the rest find it done.
        var stores = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => PostgresWorkflowStore.Open(database.ConnectionString, options))));
        foreach (var store in stores)
        {
            await store.DisposeAsync();
        }

        await using (PostgresWorkflowStore.Open(database.ConnectionString, options))
        {
        }

        Assert.Equal(PostgresSchema.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), await database.ScalarAsync($"SELECT value FROM \"{schema}\".durably_meta WHERE key = 'schema_version'"));
        Assert.Equal(2L, await database.ScalarAsync($"SELECT count(*) FROM \"{schema}\".durably_meta"));
        Assert.Equal("durably_meta, journal, operator_actions, run_children, run_status, run_watchers, runs, signals, workers",
            await database.ScalarAsync("SELECT string_agg(table_name, ', ' ORDER BY table_name) FROM information_schema.tables WHERE table_schema = @schema", ("schema", schema)));
    }

    [Fact]
    public async Task A_version_1_schema_is_migrated_to_the_current_one_keeping_its_runs()
    {
        var schema = NewSchema();
        var options = new PostgresStoreOptions { Schema = schema };
        await using (PostgresWorkflowStore.Open(database.ConnectionString, options))
        {
        }

        await database.ScalarAsync($"""
            DROP TABLE "{schema}".run_status; DROP TABLE "{schema}".run_children; DROP TABLE "{schema}".run_watchers; DROP TABLE "{schema}".operator_actions; DROP INDEX "{schema}".runs_by_instance_key, "{schema}".runs_by_workflow_version; DROP TABLE "{schema}".signals; DROP INDEX "{schema}".runs_by_created, "{schema}".runs_by_workflow, "{schema}".runs_by_owner, "{schema}".runs_by_status_workflow, "{schema}".runs_finished, "{schema}".runs_by_status_created; ALTER TABLE "{schema}".journal DROP COLUMN retry_at; ALTER TABLE "{schema}".runs DROP COLUMN wake_at, DROP COLUMN generation, DROP COLUMN cancel_reason, DROP COLUMN failed_sequence, DROP COLUMN instance_key, DROP COLUMN fingerprint, DROP COLUMN seed; ALTER TABLE "{schema}".workers DROP COLUMN workflows, DROP COLUMN advertised_until;
            UPDATE "{schema}".durably_meta SET value = '1' WHERE key = 'schema_version';
            INSERT INTO "{schema}".runs (workflow_id, workflow_name, version, input_json, status, epoch, created_at, updated_at) VALUES ('kept', 'Orders', 1, '{"{}"}', 0, 0, now(), now())
            """);

        await using (var migrated = PostgresWorkflowStore.Open(database.ConnectionString, options))
        {
            var kept = await migrated.GetRunAsync("kept", default);
            Assert.NotNull(kept);
            Assert.Null(kept.WakeAt);
            Assert.Equal(0, kept.Generation);
            Assert.False(kept.IsCancelRequested);
            Assert.Null(kept.FailedSequence);
            Assert.Null(kept.InstanceKey);
        }

        Assert.Equal(PostgresSchema.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), await database.ScalarAsync($"SELECT value FROM \"{schema}\".durably_meta WHERE key = 'schema_version'"));
        Assert.Equal(0L, await database.ScalarAsync($"SELECT count(*) FROM \"{schema}\".signals"));
    }

    [Fact]
    public async Task The_default_schema_is_durably_and_two_schemas_keep_their_runs_apart()
    {
        await using var defaultStore = PostgresWorkflowStore.Open(database.ConnectionString);
        await using var other = PostgresWorkflowStore.Open(database.ConnectionString, new PostgresStoreOptions { Schema = NewSchema() });
        var run = RunRecord.Started("apart-1", "Orders", 1, "{}", DateTimeOffset.UnixEpoch);

        await defaultStore.CreateRunAsync(run, default);

        Assert.Equal("durably", defaultStore.Schema);
        Assert.NotNull(await defaultStore.GetRunAsync("apart-1", default));
        Assert.Null(await other.GetRunAsync("apart-1", default));
    }

    [Theory]
    [InlineData("")]
    [InlineData("Durably")]
    [InlineData("1durably")]
    [InlineData("durably; DROP SCHEMA public CASCADE; --")]
    [InlineData("dur\"ably")]
    [InlineData("durably\n")]
    [InlineData("dura bly")]
    [InlineData("durabl\u00e9")]
    [InlineData("pg_durably")]
    [InlineData("information_schema")]
    [InlineData("a234567890123456789012345678901234567890123456789012345678901234")]
    public void A_schema_name_that_is_not_a_plain_identifier_is_rejected_naming_it(string schema)
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => PostgresWorkflowStore.Open(database.ConnectionString, new PostgresStoreOptions { Schema = schema }));

        Assert.Contains("schema name", error.Message, StringComparison.Ordinal);
        if (schema.Length > 0 && !schema.Contains('\n', StringComparison.Ordinal))
        {
            Assert.Contains($"'{schema}'", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Huge_and_control_character_schema_names_are_rejected_at_configuration_and_shown_safely()
    {
        var huge = new string('a', 10_000);
        var hugeError = Assert.ThrowsAny<ArgumentException>(() => new ServiceCollection().AddDurably(o => o.UsePostgres(database.ConnectionString, p => p.Schema = huge)));
        var controlError = Assert.ThrowsAny<ArgumentException>(() => new ServiceCollection().AddDurably(o => o.UsePostgres(database.ConnectionString, p => p.Schema = "a\u0000b\nc")));

        Assert.Contains("(10000 characters)", hugeError.Message, StringComparison.Ordinal);
        Assert.True(hugeError.Message.Length < 600, hugeError.Message);
        Assert.Contains("'a\\u0000b\\u000Ac'", controlError.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new ServiceCollection().AddDurably(o => o.UsePostgres(" ")));
    }

    [Fact]
    public async Task A_schema_holding_other_tables_or_a_newer_version_is_refused_naming_the_server_and_schema()
    {
        var foreign = NewSchema();
        await database.ScalarAsync($"CREATE SCHEMA \"{foreign}\"; CREATE TABLE \"{foreign}\".customers (id int)");
        var newer = NewSchema();
        await using (PostgresWorkflowStore.Open(database.ConnectionString, new PostgresStoreOptions { Schema = newer }))
        {
        }

        await database.ScalarAsync($"UPDATE \"{newer}\".durably_meta SET value = '{PostgresSchema.Version + 1}' WHERE key = 'schema_version'");

        var foreignError = Assert.Throws<DurableStoreException>(() => PostgresWorkflowStore.Open(database.ConnectionString, new PostgresStoreOptions { Schema = foreign }));
        var newerError = Assert.Throws<DurableStoreException>(() => PostgresWorkflowStore.Open(database.ConnectionString, new PostgresStoreOptions { Schema = newer }));

        Assert.Contains($"Schema '{foreign}'", foreignError.Message, StringComparison.Ordinal);
        Assert.Contains("tables that are not Durably's (customers)", foreignError.Message, StringComparison.Ordinal);
        Assert.Contains($"database '{database.Name}'", foreignError.Message, StringComparison.Ordinal);
        Assert.Contains($"has version {PostgresSchema.Version + 1}, newer than this Durably ({PostgresSchema.Version})", newerError.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_wrong_password_fails_start_up_naming_host_port_and_database_but_never_the_password()
    {
        var builder = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Password = "Wr0ng-Secret-Pa55" };

        var error = Assert.Throws<DurableStoreException>(() => PostgresWorkflowStore.Open(builder.ConnectionString));

        AssertNamesServer(error, builder);
        Assert.Contains("password authentication failed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_server_that_does_not_answer_fails_start_up_naming_host_port_and_database()
    {
        var builder = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Port = ClosedPort(), Timeout = 5 };

        var error = Assert.Throws<DurableStoreException>(() => PostgresWorkflowStore.Open(builder.ConnectionString));

        AssertNamesServer(error, builder);
        Assert.Contains("refused", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void A_missing_database_fails_start_up_naming_it()
    {
        var builder = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Database = "no_such_database_here" };

        var error = Assert.Throws<DurableStoreException>(() => PostgresWorkflowStore.Open(builder.ConnectionString));

        AssertNamesServer(error, builder);
        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_malformed_connection_string_is_an_argument_error()
    {
        var error = Assert.Throws<ArgumentException>(() => PostgresWorkflowStore.Open("Host=127.0.0.1;Bogus Keyword=1"));

        Assert.Contains("connection string is invalid", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UsePostgres_takes_a_connection_string_or_the_data_source_registered_in_DI()
    {
        var schema = NewSchema();
        var fromString = new ServiceCollection().AddDurably(o => o.UsePostgres(database.ConnectionString, p => p.Schema = schema)).Services.BuildServiceProvider();
        await using var dataSource = NpgsqlDataSource.Create(database.ConnectionString);
        var fromDi = new ServiceCollection().AddSingleton(dataSource).AddDurably(o => o.UsePostgres(p => p.Schema = schema)).Services.BuildServiceProvider();
        var missing = new ServiceCollection().AddDurably(o => o.UsePostgres()).Services.BuildServiceProvider();

        await using (fromString)
        await using (fromDi)
        await using (missing)
        {
            Assert.Equal(schema, Assert.IsType<PostgresWorkflowStore>(fromString.GetRequiredService<IWorkflowStore>()).Schema);
            Assert.Equal(schema, Assert.IsType<PostgresWorkflowStore>(fromDi.GetRequiredService<IWorkflowStore>()).Schema);
            var error = Assert.Throws<InvalidOperationException>(() => missing.GetRequiredService<IWorkflowStore>());
            Assert.Contains("NpgsqlDataSource", error.Message, StringComparison.Ordinal);
        }

        // The application's data source outlives the store that used it.
        await using var command = dataSource.CreateCommand("SELECT 1");
        Assert.Equal(1, await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_journal_write_the_server_refuses_fails_alone_and_the_writes_sent_with_it_are_stored()
    {
        const int runs = 24;
        var schema = NewSchema();
        await using var store = PostgresWorkflowStore.Open(database.ConnectionString, new PostgresStoreOptions { Schema = schema });
        // A rule of the database's own (as a DBA's trigger might be) refuses one run's rows.
        await database.ScalarAsync($"""
            CREATE FUNCTION "{schema}".refuse() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN IF NEW.workflow_id = 'run-7' THEN RAISE EXCEPTION 'run-7 is refused here'; END IF; RETURN NEW; END $$;
            CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON "{schema}".journal FOR EACH ROW EXECUTE FUNCTION "{schema}".refuse();
            """);
        var leases = new List<RunLease>();
        for (var i = 0; i < runs; i++)
        {
            await store.CreateRunAsync(RunRecord.Started($"run-{i}", "Orders", 1, "{}", DateTimeOffset.UtcNow), default);
            leases.Add((await store.TryClaimAsync($"run-{i}", "w", TimeSpan.FromMinutes(1), default))!);
        }

        // All at once, so that the group commit sends them in as few batches as it can.
        using var start = new Barrier(runs);
        var results = new Task<JournalWriteResult>[runs];
        var threads = Enumerable.Range(0, runs).Select(i => new Thread(() =>
        {
            start.SignalAndWait();
            results[i] = store.RecordAttemptAsync(leases[i],
                JournalEntry.Attempting($"run-{i}", 0, "Charge", OperationKind.Step, "{}", DateTimeOffset.UtcNow) with { Attempts = 1 }, JournalDurability.Durable, default);
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        var refused = await Assert.ThrowsAsync<DurableStoreException>(() => results[7]);
        Assert.Contains("run-7 is refused here", refused.Message, StringComparison.Ordinal);
        Assert.Contains("record a step attempt", refused.Message, StringComparison.Ordinal);
        Assert.Empty((await store.LoadAsync("run-7", default))!.Journal);
        for (var i = 0; i < runs; i++)
        {
            if (i != 7)
            {
                Assert.Equal(JournalEntryState.Attempting, (await results[i]).Entry!.State);
                Assert.Single((await store.LoadAsync($"run-{i}", default))!.Journal);
            }
        }
    }

    [Fact]
    public async Task Text_with_no_utf8_form_is_refused_with_a_store_error_naming_it_and_nothing_is_written()
    {
        await using var store = PostgresWorkflowStore.Open(database.ConnectionString, new PostgresStoreOptions { Schema = NewSchema() });
        await store.CreateRunAsync(RunRecord.Started("run-1", "Orders", 1, "{}", DateTimeOffset.UtcNow), default);
        var lease = (await store.TryClaimAsync("run-1", "w", TimeSpan.FromMinutes(1), default))!;
        var entry = JournalEntry.Attempting("run-1", 0, "Charge", OperationKind.Step, "{}", DateTimeOffset.UtcNow) with { Attempts = 1 };

        var error = await Assert.ThrowsAsync<DurableStoreException>(() => store.CompleteEntryAsync(lease,
            entry with { State = JournalEntryState.Failed, Error = new WorkflowError("E", "half \uD800 a pair"), CompletionIndex = 0, CompletedAt = DateTimeOffset.UtcNow }, default));

        Assert.Equal(StoreFault.Fatal, error.Fault);
        Assert.Contains("could not record a step outcome", error.Message, StringComparison.Ordinal);
        Assert.Contains("no UTF-8 form", error.Message, StringComparison.Ordinal);
        Assert.Empty((await store.LoadAsync("run-1", default))!.Journal);
        // The store is still usable.
        Assert.Equal(JournalEntryState.Attempting, (await store.RecordAttemptAsync(lease, entry, JournalDurability.Durable, default)).Entry!.State);
    }

    private static void AssertNamesServer(DurableStoreException error, NpgsqlConnectionStringBuilder builder)
    {
        Assert.Contains($"host '{builder.Host}'", error.Message, StringComparison.Ordinal);
        Assert.Contains($"port {builder.Port}", error.Message, StringComparison.Ordinal);
        Assert.Contains($"database '{builder.Database}'", error.Message, StringComparison.Ordinal);
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            Assert.DoesNotContain(builder.Password!, e.Message, StringComparison.Ordinal);
        }

        Assert.DoesNotContain(builder.Password!, error.ToString(), StringComparison.Ordinal);
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
