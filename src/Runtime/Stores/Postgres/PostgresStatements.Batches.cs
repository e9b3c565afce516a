namespace Durably.Runtime.Stores;

/// <summary>Journal writes of many runs in one statement: the group commit's batch.</summary>
internal sealed partial class PostgresStatements
{
    private readonly string _schemaName;
    private string? _writeEntries;
    private string? _writeEntriesDeferred;

    /// <summary>
    /// Writes journal rows of any runs — attempts and outcomes — in one statement, each row fenced by its own run (see
    /// <see cref="WriteEntriesStatement"/>): the statement the group commit sends for two writes or more.
    /// </summary>
    public string WriteEntries(bool deferred) => deferred
        ? _writeEntriesDeferred ??= WriteEntriesStatement(_schemaName, deferred: true)
        : _writeEntries ??= WriteEntriesStatement(_schemaName, deferred: false);

    /// <summary>
    /// Parameters are arrays, one element per row; the statement returns one result row per element, in order — the
    /// same columns as a single fenced write (<see cref="WriteEntry"/>) returns, and the same rules for each row: the run
    /// row is share-locked while its status, owner and epoch are checked (a takeover's update waits for the statement,
    /// and the statement waits for a takeover); a row that <c>starts_work</c> is not written once a cancel was
    /// requested; only a non-terminal row is overwritten — an attempt counts one attempt more, an outcome sets the
    /// result and keeps the larger attempt count. Two elements never name the same journal row (ON CONFLICT cannot
    /// update a row twice in one statement): the caller splits such a batch.
    /// </summary>
    /// <remarks>
    /// Per statement, PostgreSQL spends more on starting and ending the executor than on one row: one statement for a
    /// batch of ten writes costs the server about two thirds of ten statements in one transaction (pgbench, pipelined).
    /// </remarks>
    private static string WriteEntriesStatement(string s, bool deferred)
    {
        // Each array behind a sub-select: the planner sees its length neither when it plans for given values nor for any
        // values, so both plans cost the same and the server keeps the generic one instead of planning on every call.
        static string Arrays(params string[] parameters) => string.Join(", ", parameters.Select(p => $"(SELECT @{p})"));
        static string Outcome(string column) => $"{column} = CASE WHEN excluded.state = 0 THEN j.{column} ELSE excluded.{column} END";
        return $"""
            WITH input AS (
                SELECT * FROM unnest({Arrays("ids::text[]", "owners::text[]", "epochs::bigint[]", "sequences::bigint[]", "operations::text[]", "kinds::smallint[]",
                    "states::smallint[]", "inputs::text[]", "outputs::text[]", "error_types::text[]", "error_messages::text[]", "attempts::integer[]",
                    "completion_indexes::bigint[]", "started::timestamptz[]", "completed::timestamptz[]", "starts_work::boolean[]")})
                    WITH ORDINALITY AS i(workflow_id, owner, epoch, sequence, operation_id, kind, state, input_json, output_json, error_type,
                        error_message, attempts, completion_index, started_at, completed_at, starts_work, ord)
            ), held AS (
                -- Row by row through the primary key, whatever the statistics say about active runs.
                SELECT i.ord, r.cancel{(deferred ? ", set_config('synchronous_commit', 'off', true)" : "")}
                FROM input i CROSS JOIN LATERAL (
                    SELECT cancel_reason IS NOT NULL AS cancel FROM {s}.runs
                    WHERE workflow_id = i.workflow_id AND status = 0 AND owner = i.owner AND epoch = i.epoch
                    FOR SHARE
                ) r
            ), written AS (
                INSERT INTO {s}.journal AS j ({JournalColumns})
                SELECT i.workflow_id, i.sequence, i.operation_id, i.kind, i.state, i.input_json, i.output_json, i.error_type, i.error_message,
                    i.attempts, i.completion_index, i.started_at, i.completed_at, NULL
                FROM input i JOIN held h ON h.ord = i.ord
                WHERE NOT (i.starts_work AND h.cancel)
                ON CONFLICT (workflow_id, sequence) DO UPDATE SET
                    state = excluded.state, {Outcome("output_json")}, {Outcome("error_type")}, {Outcome("error_message")},
                    {Outcome("completion_index")}, {Outcome("completed_at")}, retry_at = NULL,
                    attempts = CASE WHEN excluded.state = 0 THEN j.attempts + 1 ELSE GREATEST(j.attempts, excluded.attempts) END
                WHERE j.state = 0
                {s_returningJournal}
            )
            SELECT entry.*, h.ord IS NOT NULL AS held, coalesce(h.cancel, false) AS cancel
            FROM input i
            LEFT JOIN held h ON h.ord = i.ord
            LEFT JOIN LATERAL (
                SELECT * FROM written w WHERE w.workflow_id = i.workflow_id AND w.sequence = i.sequence
                UNION ALL
                SELECT {JournalColumns} FROM {s}.journal stored
                WHERE h.ord IS NOT NULL AND stored.workflow_id = i.workflow_id AND stored.sequence = i.sequence
                    AND NOT EXISTS (SELECT 1 FROM written w WHERE w.workflow_id = i.workflow_id AND w.sequence = i.sequence)
            ) entry ON true
            ORDER BY i.ord
            """;
    }
}
