using Npgsql;

namespace Durably.Runtime.Stores;

/// <summary>
/// Durably's tables in their own schema, created and migrated by the runtime: versioned (<c>durably_meta</c>),
/// idempotent, and safe when several workers start at once (each migration runs under a transaction-scoped advisory
/// lock on the schema's name, so one worker migrates and the others then find the work done).
/// </summary>
internal static class PostgresSchema
{
    /// <summary>The schema version this code creates and reads.</summary>
    public const int Version = 19;

    /// <summary>The notification payload that says runs may be claimable.</summary>
    public const string RunsAvailablePayload = "available";

    /// <summary>The prefix of the notification payload that says a run ended; the run's id follows (empty when too long to send).</summary>
    public const string RunFinishedPrefix = "finished:";

    /// <summary>The prefix of the notification payload that says a run received a signal; the run's id follows (empty when too long).</summary>
    public const string RunSignalledPrefix = "signal:";

    private const string ApplicationId = "durably";

    /// <summary>The first key of the advisory lock: "Du" — the second is the hash of the schema's name.</summary>
    private const int LockSpace = 0x4475;

    /// <summary>Migration <c>i</c> takes the schema from version <c>i</c> to <c>i + 1</c>; <c>{schema}</c> is the quoted schema name.</summary>
    private static readonly string[] s_migrations =
    [
        """
        CREATE TABLE {schema}.durably_meta (
            key   text PRIMARY KEY,
            value text NOT NULL
        );
        INSERT INTO {schema}.durably_meta (key, value) VALUES ('application', 'durably'), ('schema_version', '0');
        CREATE TABLE {schema}.workers (
            incarnation      uuid PRIMARY KEY,
            name             text NOT NULL,
            started_at       timestamptz NOT NULL,
            heartbeat_at     timestamptz NOT NULL,
            lease_expires_at timestamptz NOT NULL
        );
        CREATE TABLE {schema}.runs (
            workflow_id       text PRIMARY KEY,
            workflow_name     text NOT NULL,
            version           integer NOT NULL,
            input_json        text NOT NULL,
            status            smallint NOT NULL,
            output_json       text,
            error_type        text,
            error_message     text,
            owner             text,
            owner_incarnation uuid,
            epoch             bigint NOT NULL,
            created_at        timestamptz NOT NULL,
            updated_at        timestamptz NOT NULL
        );
        CREATE INDEX runs_active ON {schema}.runs (created_at, workflow_id) WHERE status = 0;
        CREATE TABLE {schema}.journal (
            workflow_id      text NOT NULL REFERENCES {schema}.runs (workflow_id),
            sequence         bigint NOT NULL,
            operation_id     text NOT NULL,
            kind             smallint NOT NULL,
            state            smallint NOT NULL,
            input_json       text,
            output_json      text,
            error_type       text,
            error_message    text,
            attempts         integer NOT NULL,
            completion_index bigint,
            started_at       timestamptz NOT NULL,
            completed_at     timestamptz,
            PRIMARY KEY (workflow_id, sequence)
        );
        """,
        """
        CREATE TABLE {schema}.signals (
            position          bigserial PRIMARY KEY,
            workflow_id       text NOT NULL REFERENCES {schema}.runs (workflow_id),
            signal_id         text NOT NULL,
            name              text NOT NULL,
            payload_json      text NOT NULL,
            sent_at           timestamptz NOT NULL,
            taken_by_sequence bigint,
            UNIQUE (workflow_id, signal_id)
        );
        CREATE INDEX signals_untaken ON {schema}.signals (workflow_id, name, position) WHERE taken_by_sequence IS NULL;
        """,
        """
        ALTER TABLE {schema}.runs ADD COLUMN wake_at timestamptz, ADD COLUMN generation integer NOT NULL DEFAULT 0;
        CREATE INDEX runs_unloaded ON {schema}.runs (wake_at) WHERE status = 0 AND wake_at IS NOT NULL;
        """,
        """
        ALTER TABLE {schema}.runs ADD COLUMN cancel_reason text;
        """,
        """
        CREATE INDEX runs_by_created ON {schema}.runs (created_at, workflow_id);
        CREATE INDEX runs_by_workflow ON {schema}.runs (workflow_name, created_at, workflow_id);
        """,
        """
        ALTER TABLE {schema}.journal ADD COLUMN retry_at timestamptz;
        """,
        """
        ALTER TABLE {schema}.runs ADD COLUMN failed_sequence bigint;
        """,
        """
        ALTER TABLE {schema}.runs ADD COLUMN instance_key text;
        CREATE UNIQUE INDEX runs_by_instance ON {schema}.runs (workflow_name, instance_key) WHERE status = 0 AND instance_key IS NOT NULL;
        """,
        """
        ALTER TABLE {schema}.workers ADD COLUMN workflows text[] NOT NULL DEFAULT '{}', ADD COLUMN advertised_until timestamptz;
        """,
        """
        ALTER TABLE {schema}.runs ADD COLUMN fingerprint text;
        """,
        """
        CREATE INDEX runs_by_owner ON {schema}.runs (owner_incarnation) WHERE status = 0 AND owner_incarnation IS NOT NULL;
        """,
        """
        ALTER TABLE {schema}.runs ADD COLUMN seed text;
        """,
        """
        CREATE INDEX runs_by_status_workflow ON {schema}.runs (status, workflow_name);
        CREATE INDEX runs_finished ON {schema}.runs (updated_at) WHERE status <> 0;
        CREATE INDEX runs_by_status_created ON {schema}.runs (status, created_at, workflow_id);
        """,
        """
        CREATE INDEX runs_by_instance_key ON {schema}.runs (instance_key, created_at, workflow_id) WHERE instance_key IS NOT NULL;
        CREATE INDEX runs_by_workflow_version ON {schema}.runs (workflow_name, version, created_at, workflow_id);
        CREATE TABLE {schema}.operator_actions (
            id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            workflow_id text NOT NULL,
            action      text NOT NULL,
            actor       text NOT NULL,
            reason      text NOT NULL,
            at          timestamptz NOT NULL
        );
        CREATE INDEX operator_actions_by_run ON {schema}.operator_actions (workflow_id, id);
        """,
        """
        CREATE TABLE {schema}.run_watchers (workflow_id text PRIMARY KEY);
        """,
        """
        CREATE TABLE {schema}.run_children (
            child_id        text PRIMARY KEY,
            parent_id       text NOT NULL,
            parent_sequence bigint NOT NULL
        );
        CREATE INDEX run_children_by_parent ON {schema}.run_children (parent_id, parent_sequence);
        """,
        """
        ALTER TABLE {schema}.run_children ADD COLUMN abandon boolean NOT NULL DEFAULT false;
        """,
        """
        CREATE TABLE {schema}.run_status (
            workflow_id   text PRIMARY KEY,
            status_json   text,
            status_at     timestamptz,
            progress_json text,
            progress_at   timestamptz
        );
        """,
        // The journal's foreign key checked, for every row a step wrote, what the write itself had just proved in the
        // same statement: every journal write is fenced by its run's row, read and share-locked (or, for a rerun, the
        // run is inserted in the same transaction), so no journal row is ever written without its run; and runs are
        // only deleted by the purge, with their journals, in one statement. The check was one more lookup and lock per
        // row, about a tenth of the CPU a step costs the database and the worker together (docs/operations.md).
        """
        ALTER TABLE {schema}.journal DROP CONSTRAINT IF EXISTS journal_workflow_id_fkey;
        """,
    ];

    /// <summary>Creates the schema or brings it to <see cref="Version"/>; throws, naming the server, when it cannot.</summary>
    public static void CreateOrMigrate(NpgsqlDataSource dataSource, string schema, string server)
    {
        var quoted = PostgresWorkflowStore.Quote(schema);
        try
        {
            using var connection = dataSource.OpenConnection();
            using var transaction = connection.BeginTransaction();
            Execute(connection, "SELECT pg_advisory_xact_lock(@space, hashtext(@schema))", ("space", LockSpace), ("schema", schema));
            // Created only when missing: CREATE SCHEMA IF NOT EXISTS needs the right to create in the database even when
            // the schema exists, and a user granted only the use of Durably's tables must still open the store.
            if (Scalar(connection, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = @schema)", ("schema", schema)) is not true)
            {
                Execute(connection, $"CREATE SCHEMA {quoted}");
            }

            var current = 0;
            if (Scalar(connection, "SELECT to_regclass(@table) IS NOT NULL", ("table", quoted + ".durably_meta")) is true)
            {
                var application = Scalar(connection, $"SELECT value FROM {quoted}.durably_meta WHERE key = 'application'") as string;
                var version = Scalar(connection, $"SELECT value FROM {quoted}.durably_meta WHERE key = 'schema_version'") as string;
                if (application != ApplicationId || !int.TryParse(version, System.Globalization.CultureInfo.InvariantCulture, out current))
                {
                    throw new DurableStoreException($"Schema '{schema}' at {server} has a durably_meta table that Durably did not write. Configure another schema.");
                }
            }
            else if (Scalar(connection, "SELECT string_agg(table_name, ', ' ORDER BY table_name) FROM information_schema.tables WHERE table_schema = @schema", ("schema", schema)) is string others)
            {
                throw new DurableStoreException(
                    $"Schema '{schema}' at {server} already holds tables that are not Durably's ({others}). Configure another schema for Durably.");
            }

            if (current > Version)
            {
                throw new DurableStoreException(
                    $"The Durably schema '{schema}' at {server} has version {current}, newer than this Durably ({Version}). Run a newer Durably, or configure another schema.");
            }

            for (var version = current; version < Version; version++)
            {
                Execute(connection, s_migrations[version].Replace("{schema}", quoted, StringComparison.Ordinal));
            }

            if (current < Version)
            {
                Execute(connection, $"UPDATE {quoted}.durably_meta SET value = @version WHERE key = 'schema_version'",
                    ("version", Version.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            }

            transaction.Commit();
        }
        catch (NpgsqlException ex)
        {
            throw new DurableStoreException($"Durably cannot open its PostgreSQL store at {server}, schema '{schema}': {PostgresRetry.Explain(ex)}", PostgresRetry.Classify(ex), ex);
        }
    }

    private static void Execute(NpgsqlConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        using var command = Create(connection, sql, parameters);
        command.ExecuteNonQuery();
    }

    private static object? Scalar(NpgsqlConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        using var command = Create(connection, sql, parameters);
        var value = command.ExecuteScalar();
        return value is DBNull ? null : value;
    }

    private static NpgsqlCommand Create(NpgsqlConnection connection, string sql, (string Name, object Value)[] parameters)
    {
        var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return command;
    }
}
