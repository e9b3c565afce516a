using Microsoft.Data.Sqlite;
using static Durably.Runtime.Stores.SqliteCommands;

namespace Durably.Runtime.Stores;

/// <summary>The SQLite store's schema: its version, its migrations and the column lists every statement reads.</summary>
internal static class SqliteSchema
{
    /// <summary>The schema version this code creates and reads.</summary>
    public const int Version = 17;

    /// <summary>What <c>durably_meta</c> says owns the file.</summary>
    private const string ApplicationId = "durably";

    public const string RunColumns = "workflow_id, workflow_name, version, input_json, status, output_json, error_type, error_message, owner, epoch, lease_expires_at, created_at, updated_at, wake_at, generation, cancel_reason, failed_sequence, instance_key, fingerprint, seed";

    public const string JournalColumns = "workflow_id, sequence, operation_id, kind, state, input_json, output_json, error_type, error_message, attempts, completion_index, started_at, completed_at, retry_at";

    /// <summary>
    /// Switches the database to WAL and creates or migrates its schema to <see cref="Version"/>, in one transaction that
    /// also proves the file writable; refuses a file that is not a Durably database or is newer than this code.
    /// </summary>
    public static void Initialize(SqliteConnection connection, string path)
    {
        using (var wal = connection.CreateCommand())
        {
            wal.CommandText = "PRAGMA journal_mode=WAL;";
            var mode = wal.ExecuteScalar() as string;
            if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
            {
                throw new DurableStoreException($"The Durably database '{path}' could not be switched to WAL (journal_mode is '{mode}').");
            }
        }

        InTransaction(connection, TransactionKind.Write, () => Migrate(connection, path));
    }

    private static bool Migrate(SqliteConnection connection, string path)
    {
        var tables = Query(connection, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%';", r => r.GetString(0));
        var version = 0;
        if (tables.Count == 0)
        {
            Execute(connection, "CREATE TABLE durably_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);");
            Execute(connection, "INSERT INTO durably_meta (key, value) VALUES ('application', $app), ('schema_version', '0');", ("$app", ApplicationId));
        }
        else if (!tables.Contains("durably_meta"))
        {
            throw new DurableStoreException(
                $"The file '{path}' is a SQLite database but not a Durably database (it has tables {string.Join(", ", tables.Order().Take(5))} and no durably_meta). Point Durably at another path.");
        }
        else
        {
            var meta = Query(connection, "SELECT key, value FROM durably_meta;", r => (Key: r.GetString(0), Value: r.GetString(1))).ToDictionary(m => m.Key, m => m.Value);
            if (meta.GetValueOrDefault("application") != ApplicationId || !int.TryParse(meta.GetValueOrDefault("schema_version"), out version))
            {
                throw new DurableStoreException($"The file '{path}' has a durably_meta table that Durably did not write. Point Durably at another path.");
            }

            if (version > Version)
            {
                throw new DurableStoreException(
                    $"The Durably database '{path}' has schema version {version}, newer than this Durably ({Version}). Run a newer Durably, or another file.");
            }

        }

        for (var from = version; from < Version; from++)
        {
            Execute(connection, s_migrations[from]);
        }

        // Also the write probe: a read-only file opens and reads fine; find out now, at start-up, not at the first write.
        Execute(connection, "UPDATE durably_meta SET value = $version WHERE key = 'schema_version';",
            ("$version", Math.Max(version, Version).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        return true;
    }

    /// <summary>Migration <c>i</c> takes the schema from version <c>i</c> to <c>i + 1</c>, in the start-up transaction.</summary>
    private static readonly string[] s_migrations =
    [
        """
        CREATE TABLE runs (
            workflow_id      TEXT PRIMARY KEY,
            workflow_name    TEXT NOT NULL,
            version          INTEGER NOT NULL,
            input_json       TEXT NOT NULL,
            status           INTEGER NOT NULL,
            output_json      TEXT,
            error_type       TEXT,
            error_message    TEXT,
            owner            TEXT,
            epoch            INTEGER NOT NULL,
            lease_expires_at INTEGER,
            created_at       INTEGER NOT NULL,
            updated_at       INTEGER NOT NULL
        );
        CREATE INDEX runs_by_status ON runs (status, lease_expires_at);
        CREATE TABLE journal (
            workflow_id      TEXT NOT NULL REFERENCES runs (workflow_id),
            sequence         INTEGER NOT NULL,
            operation_id     TEXT NOT NULL,
            kind             INTEGER NOT NULL,
            state            INTEGER NOT NULL,
            input_json       TEXT,
            output_json      TEXT,
            error_type       TEXT,
            error_message    TEXT,
            attempts         INTEGER NOT NULL,
            completion_index INTEGER,
            started_at       INTEGER NOT NULL,
            completed_at     INTEGER,
            PRIMARY KEY (workflow_id, sequence)
        ) WITHOUT ROWID;
        """,
        """
        CREATE TABLE signals (
            position          INTEGER PRIMARY KEY,
            workflow_id       TEXT NOT NULL REFERENCES runs (workflow_id),
            signal_id         TEXT NOT NULL,
            name              TEXT NOT NULL,
            payload_json      TEXT NOT NULL,
            sent_at           INTEGER NOT NULL,
            taken_by_sequence INTEGER,
            UNIQUE (workflow_id, signal_id)
        );
        CREATE INDEX signals_untaken ON signals (workflow_id, name, position) WHERE taken_by_sequence IS NULL;
        """,
        """
        ALTER TABLE runs ADD COLUMN wake_at INTEGER;
        ALTER TABLE runs ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX runs_unloaded ON runs (wake_at) WHERE status = 0 AND wake_at IS NOT NULL;
        """,
        """
        ALTER TABLE runs ADD COLUMN cancel_reason TEXT;
        """,
        """
        CREATE INDEX runs_by_created ON runs (created_at, workflow_id);
        CREATE INDEX runs_by_workflow ON runs (workflow_name, created_at, workflow_id);
        """,
        """
        ALTER TABLE journal ADD COLUMN retry_at INTEGER;
        """,
        """
        ALTER TABLE runs ADD COLUMN failed_sequence INTEGER;
        """,
        """
        ALTER TABLE runs ADD COLUMN instance_key TEXT;
        CREATE UNIQUE INDEX runs_by_instance ON runs (workflow_name, instance_key) WHERE status = 0 AND instance_key IS NOT NULL;
        """,
        """
        CREATE TABLE workers (
            name       TEXT PRIMARY KEY,
            workflows  TEXT NOT NULL,
            expires_at INTEGER NOT NULL
        );
        """,
        """
        ALTER TABLE runs ADD COLUMN fingerprint TEXT;
        """,
        """
        CREATE INDEX runs_by_owner ON runs (owner) WHERE status = 0 AND owner IS NOT NULL;
        """,
        """
        ALTER TABLE runs ADD COLUMN seed TEXT;
        """,
        """
        CREATE INDEX runs_by_status_workflow ON runs (status, workflow_name);
        CREATE INDEX runs_finished ON runs (updated_at) WHERE status <> 0;
        CREATE INDEX runs_by_status_created ON runs (status, created_at, workflow_id);
        """,
        """
        CREATE INDEX runs_by_instance_key ON runs (instance_key, created_at, workflow_id) WHERE instance_key IS NOT NULL;
        CREATE INDEX runs_by_workflow_version ON runs (workflow_name, version, created_at, workflow_id);
        CREATE TABLE operator_actions (
            id          INTEGER PRIMARY KEY,
            workflow_id TEXT NOT NULL,
            action      TEXT NOT NULL,
            actor       TEXT NOT NULL,
            reason      TEXT NOT NULL,
            at          INTEGER NOT NULL
        );
        CREATE INDEX operator_actions_by_run ON operator_actions (workflow_id, id);
        """,
        """
        CREATE TABLE run_children (
            child_id        TEXT PRIMARY KEY,
            parent_id       TEXT NOT NULL,
            parent_sequence INTEGER NOT NULL
        );
        CREATE INDEX run_children_by_parent ON run_children (parent_id, parent_sequence);
        """,
        """
        ALTER TABLE run_children ADD COLUMN abandon INTEGER NOT NULL DEFAULT 0;
        """,
        """
        CREATE TABLE run_status (
            workflow_id   TEXT PRIMARY KEY,
            status_json   TEXT,
            status_at     INTEGER,
            progress_json TEXT,
            progress_at   INTEGER
        );
        """,
    ];
}
