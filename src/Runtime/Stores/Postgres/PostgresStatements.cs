
namespace Durably.Runtime.Stores;

/// <summary>The store's statements for one schema, built once. Each is one round trip.</summary>
internal sealed partial class PostgresStatements
{
    private const string JournalColumns = "workflow_id, sequence, operation_id, kind, state, input_json, output_json, error_type, error_message, attempts, completion_index, started_at, completed_at, retry_at";

    private const string RunColumns = "r.workflow_id, r.workflow_name, r.version, r.input_json, r.status, r.output_json, r.error_type, r.error_message, r.owner, r.epoch, w.lease_expires_at, r.created_at, r.updated_at, r.wake_at, r.generation, r.cancel_reason, r.failed_sequence, r.instance_key, r.fingerprint, r.seed";

    /// <summary>The run is active and this lease is its current one.</summary>
    private const string HeldBy = "workflow_id = @id AND status = 0 AND owner = @owner AND epoch = @epoch";

    public PostgresStatements(string schema)
    {
        var s = _schemaName = schema;
        var runs = $"{s}.runs r LEFT JOIN {s}.workers w ON w.incarnation = r.owner_incarnation";

        // Unowned; owned by an incarnation of the same worker name (a restarted worker takes its runs back at once); or
        // owned by a worker whose lease has expired by the database clock.
        var claimable = $"""
            (r.owner_incarnation IS NULL OR r.owner = @owner
                OR NOT EXISTS (SELECT 1 FROM {s}.workers live WHERE live.incarnation = r.owner_incarnation AND live.lease_expires_at > now() + @skew))
            """;

        GetRun = $"SELECT {RunColumns} FROM {runs} WHERE r.workflow_id = @id";
        (LoadClaimedRuns, LoadClaimedJournals) = LoadClaimed(s, runs);
        (WatchRun, AnnounceEnd) = Watches(s, runs);
        (CreateChildRun, GetParent, ListChildren, LockParent, WakeParent, AwaitedChildEnded, HandOnParent, CancelDescendants) = Children(s);
        _listRuns = $"SELECT {RunColumns} FROM {runs}{{0}} ORDER BY r.created_at DESC, r.workflow_id DESC LIMIT @limit";
        GetJournal = $"SELECT {JournalColumns} FROM {s}.journal WHERE workflow_id = @id ORDER BY sequence";

        // Inserted (held by @owner's incarnation when the starter's own worker runs it) unless the id is taken or an active run of the workflow holds the instance key (ON CONFLICT covers
        // both unique indexes); otherwise the run with the id, or the key's holder. A conflicting row committed after
        // this statement's snapshot is not visible to its reads: no row comes back and the store runs it again.
        CreateRun = $"""
            WITH inserted AS (
                INSERT INTO {s}.runs (workflow_id, workflow_name, version, input_json, status, output_json, error_type, error_message, failed_sequence, owner, owner_incarnation, epoch, created_at, updated_at, generation, instance_key, fingerprint, seed)
                VALUES (@id, @name, @version, @input, @status, @output::text, @error_type::text, @error_message::text, @failed_sequence::bigint, @owner::text, @incarnation::uuid, @epoch, @created, @updated, @generation, @instance_key::text, @fingerprint::text, @seed::text)
                ON CONFLICT DO NOTHING
                RETURNING workflow_id, workflow_name, version, input_json, status, output_json, error_type, error_message, owner, epoch,
                    NULL::timestamptz AS lease_expires_at, created_at, updated_at, wake_at, generation, cancel_reason, failed_sequence, instance_key, fingerprint, seed,
                    -- A run started already held by its starter's worker (or created ended) needs no worker woken.
                    CASE WHEN owner IS NULL AND status = 0 THEN pg_notify(@channel, '{PostgresSchema.RunsAvailablePayload}') END AS notified
            )
            SELECT workflow_id, workflow_name, version, input_json, status, output_json, error_type, error_message, owner, epoch,
                lease_expires_at, created_at, updated_at, wake_at, generation, cancel_reason, failed_sequence, instance_key, fingerprint, seed, true AS created
            FROM inserted
            UNION ALL
            SELECT {RunColumns}, false FROM {runs} WHERE r.workflow_id = @id AND NOT EXISTS (SELECT 1 FROM inserted)
            UNION ALL
            SELECT {RunColumns}, false FROM {runs}
            WHERE r.workflow_name = @name AND r.instance_key = @instance_key::text AND r.status = 0 AND NOT EXISTS (SELECT 1 FROM inserted)
                AND NOT EXISTS (SELECT 1 FROM {s}.runs WHERE workflow_id = @id)
            """;

        // The workflow, instance key and id of the active run holding the key of run @id.
        InstanceHolder = $"""
            SELECT holder.workflow_name, holder.instance_key, holder.workflow_id
            FROM {s}.runs run JOIN {s}.runs holder ON holder.workflow_name = run.workflow_name AND holder.instance_key = run.instance_key
            WHERE run.workflow_id = @id AND holder.status = 0 AND holder.workflow_id <> run.workflow_id
            """;

        // A claim is also the claiming worker's heartbeat: its row holds the lease of every run it owns.
        var heartbeat = $"""
            heartbeat AS (
                INSERT INTO {s}.workers (incarnation, name, started_at, heartbeat_at, lease_expires_at)
                VALUES (@incarnation, @owner, now() + @skew, now() + @skew, now() + @skew + @lease)
                ON CONFLICT (incarnation) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, lease_expires_at = excluded.lease_expires_at
            )
            """;

        Claim = $"""
            WITH {heartbeat}, seen AS (
                SELECT xmin AS version FROM {s}.runs WHERE workflow_id = @id
            ), candidate AS (
                -- Only the row version this statement's snapshot saw. A claim that commits between the snapshot and the
                -- lock makes PostgreSQL re-check the conditions on the new version (EvalPlanQual) but with the old
                -- snapshot of the workers table, where the winner's fresh heartbeat is missing and its lease looks
                -- expired: the version check refuses that row instead.
                SELECT r.workflow_id, r.owner AS previous_owner FROM {s}.runs r JOIN seen ON r.xmin = seen.version
                WHERE r.workflow_id = @id AND r.status = 0 AND {claimable}
                FOR UPDATE OF r SKIP LOCKED
            )
            UPDATE {s}.runs r SET owner = @owner, owner_incarnation = @incarnation, epoch = r.epoch + 1, updated_at = @now, wake_at = NULL
            FROM candidate WHERE r.workflow_id = candidate.workflow_id
            RETURNING r.epoch, candidate.previous_owner
            """;

        // The batch claim: the same conditions and the same row-version guard as Claim, for up to @limit runs. Rows
        // another worker is claiming at this moment are skipped (SKIP LOCKED), not waited for.
        var runnable = "(@names::text[] IS NULL OR (r.workflow_name, r.version) IN (SELECT n, v FROM unnest(@names::text[], @versions::integer[]) AS runnable(n, v)))";
        var claimBatch = $"""
            seen AS (
                SELECT r.workflow_id, r.xmin AS version FROM {s}.runs r
                WHERE r.status = 0 AND {claimable} AND (r.owner_incarnation IS NOT NULL OR r.wake_at IS NULL OR r.wake_at <= now() + @skew)
                    AND {runnable} AND r.workflow_id <> ALL(@exclude)
                ORDER BY r.created_at, r.workflow_id
                LIMIT @limit
            ), candidate AS (
                SELECT r.workflow_id, r.owner AS previous_owner FROM {s}.runs r JOIN seen ON r.workflow_id = seen.workflow_id AND r.xmin = seen.version
                FOR UPDATE OF r SKIP LOCKED
            )
            UPDATE {s}.runs r SET owner = @owner, owner_incarnation = @incarnation, epoch = r.epoch + 1, updated_at = @now, wake_at = NULL
            FROM candidate WHERE r.workflow_id = candidate.workflow_id
            RETURNING r.workflow_id, r.epoch, candidate.previous_owner, r.created_at
            """;
        // Without the heartbeat when the worker's row was renewed lately: claims in a row do not all write that one row.
        (ClaimBatch, ClaimBatchWithoutHeartbeat) = ($"WITH {heartbeat}, {claimBatch}", $"WITH {claimBatch}");

        // How long until something this worker cannot claim now may become claimable: an unloaded run falls due, or
        // another live worker holding runs lets its lease lapse. By the database clock.
        NextClaimable = $"""
            SELECT LEAST(
                (SELECT min(r.wake_at) FROM {s}.runs r
                    WHERE r.status = 0 AND r.owner_incarnation IS NULL AND r.wake_at > now() + @skew AND r.wake_at < @never AND {runnable}),
                (SELECT min(w.lease_expires_at) FROM {s}.workers w
                    WHERE w.lease_expires_at > now() + @skew AND w.incarnation <> @incarnation
                        AND EXISTS (SELECT 1 FROM {s}.runs r WHERE r.owner_incarnation = w.incarnation AND r.status = 0 AND {runnable}))
            ) - (now() + @skew)
            """;

        ListClaimable = $"""
            SELECT r.workflow_id FROM {s}.runs r
            WHERE r.status = 0 AND {claimable} AND (r.owner_incarnation IS NOT NULL OR r.wake_at IS NULL OR r.wake_at <= now() + @skew)
                AND (@names::text[] IS NULL OR (r.workflow_name, r.version) IN (SELECT n, v FROM unnest(@names::text[], @versions::integer[]) AS runnable(n, v)))
            ORDER BY r.created_at, r.workflow_id
            LIMIT @limit
            """;

        // A worker's advertisement lives on its incarnation's row; a row it creates holds no lease (the claim sets that).
        Advertise = $"""
            INSERT INTO {s}.workers (incarnation, name, started_at, heartbeat_at, lease_expires_at, workflows, advertised_until)
            VALUES (@incarnation, @owner, now() + @skew, now() + @skew, now() + @skew, @workflows, now() + @skew + @ttl::interval)
            ON CONFLICT (incarnation) DO UPDATE SET workflows = excluded.workflows, advertised_until = excluded.advertised_until
            """;

        // Waiting for a worker: ready to run (not unloaded, or due) and held by no live worker.
        ActiveVersions = $"""
            SELECT g.workflow_name, g.version, g.active, g.waiting, g.oldest,
                EXISTS (SELECT 1 FROM {s}.workers a WHERE a.advertised_until > now() + @skew AND (g.workflow_name || '@' || g.version) = ANY(a.workflows)),
                g.fingerprint
            FROM (
                SELECT r.workflow_name, r.version, r.fingerprint, count(*) AS active,
                    count(*) FILTER (WHERE (r.owner_incarnation IS NULL AND (r.wake_at IS NULL OR r.wake_at <= now() + @skew))
                        OR (r.owner_incarnation IS NOT NULL AND NOT EXISTS (
                            SELECT 1 FROM {s}.workers live WHERE live.incarnation = r.owner_incarnation AND live.lease_expires_at > now() + @skew))) AS waiting,
                    min(r.created_at) AS oldest
                FROM {s}.runs r WHERE r.status = 0
                GROUP BY r.workflow_name, r.version, r.fingerprint
            ) g
            ORDER BY g.workflow_name, g.version, g.fingerprint
            """;

        NextWake = $"SELECT min(wake_at) FROM {s}.runs WHERE status = 0 AND owner_incarnation IS NULL AND wake_at < @never";

        // Two statements, one implicit transaction: the first locks the run row, so the second's snapshot sees every
        // signal whose sender locked the row first (AddSignal updates it), and a later sender waits and then wakes the run.
        // A cancel request locks the row too, so a run with a cancel requested is never unloaded.
        SuspendLock = $"SELECT cancel_reason IS NOT NULL FROM {s}.runs WHERE {HeldBy} FOR UPDATE";
        Suspend = $"""
            UPDATE {s}.runs SET owner = NULL, owner_incarnation = NULL, wake_at = @wake, updated_at = @now
            WHERE {HeldBy} AND cancel_reason IS NULL AND NOT EXISTS (
                SELECT 1 FROM {s}.signals WHERE workflow_id = @id AND taken_by_sequence IS NULL AND name = ANY(@names)) AND NOT ({AwaitedChildEnded})
            RETURNING true
            """;

        // The worker's heartbeat: one row renews the lease of every run the incarnation holds; the runs come back so
        // that an execution whose run was taken over, or asked to cancel, hears of it.
        Heartbeat = $"""
            WITH heartbeat AS (
                UPDATE {s}.workers SET heartbeat_at = now() + @skew, lease_expires_at = now() + @skew + @lease WHERE incarnation = @incarnation
            )
            SELECT workflow_id, epoch, cancel_reason IS NOT NULL FROM {s}.runs WHERE owner_incarnation = @incarnation AND status = 0
            """;

        Release = $"""
            UPDATE {s}.runs SET owner = NULL, owner_incarnation = NULL, updated_at = @now WHERE {HeldBy}
            RETURNING pg_notify(@channel, '{PostgresSchema.RunsAvailablePayload}')
            """;

        CompleteRun = $"""
            UPDATE {s}.runs SET status = @status, output_json = @output::text, error_type = @error_type::text, error_message = @error_message::text,
                failed_sequence = @failed_sequence::bigint, owner = NULL, owner_incarnation = NULL, updated_at = @now
            WHERE {HeldBy}
            """;

        // Locks the run and returns it as found; when it is dead-lettered, resets its failed row (a retry: any; with a
        // cancel: only a compensation) and makes it claimable, telling idle workers. A concurrent revive waits for the
        // lock and then finds the run running.
        ReviveDeadLetter = $"""
            WITH found AS (
                SELECT {RunColumns} FROM {runs} WHERE r.workflow_id = @id FOR UPDATE OF r
            ), reset AS (
                UPDATE {s}.journal j SET state = @attempting, attempts = 0, completion_index = NULL, completed_at = NULL, retry_at = @now
                FROM found
                WHERE found.status = @dead_lettered AND j.workflow_id = @id AND j.sequence = found.failed_sequence AND j.state = @failed
                    AND (@reason::text IS NULL OR j.kind = @compensation)
            ), revived AS (
                UPDATE {s}.runs SET status = 0, output_json = NULL, error_type = NULL, error_message = NULL, failed_sequence = NULL,
                    owner = NULL, owner_incarnation = NULL, wake_at = NULL, cancel_reason = COALESCE(runs.cancel_reason, @reason::text), updated_at = @now
                FROM found WHERE runs.workflow_id = @id AND found.status = @dead_lettered
                RETURNING pg_notify(@channel, '{PostgresSchema.RunsAvailablePayload}')
            )
            SELECT * FROM found
            """;

        // Ends the run and creates the one that continues it, handing over the untaken signals, in one statement. A taken id
        // fails the statement (unique violation) and nothing changes; the store says so naming the id.
        ContinueRun = $"""
            WITH ended AS (
                UPDATE {s}.runs SET status = @status, output_json = NULL, error_type = NULL, error_message = NULL,
                    owner = NULL, owner_incarnation = NULL, updated_at = @now
                WHERE {HeldBy}
                RETURNING workflow_id
            ), created AS (
                INSERT INTO {s}.runs (workflow_id, workflow_name, version, input_json, status, epoch, created_at, updated_at, generation, instance_key, fingerprint, seed)
                SELECT @next_id, @next_name, @next_version, @next_input, 0, 0, @now, @now, @next_generation, @next_instance_key::text, @next_fingerprint::text, @next_seed::text FROM ended
                RETURNING workflow_id, pg_notify(@channel, '{PostgresSchema.RunsAvailablePayload}')
            ), moved AS (
                UPDATE {s}.signals SET workflow_id = created.workflow_id FROM created
                WHERE signals.workflow_id = @id AND signals.taken_by_sequence IS NULL
            )
            SELECT count(*) FROM created
            """;

        // Locks the run, records the reason once, wakes it if unloaded, and tells listeners the run has news.
        RequestCancel = $"""
            WITH run AS (
                SELECT status, cancel_reason FROM {s}.runs WHERE workflow_id = @id FOR UPDATE
            ), requested AS (
                UPDATE {s}.runs SET cancel_reason = @reason, wake_at = NULL, updated_at = @now
                WHERE workflow_id = @id AND status = 0 AND cancel_reason IS NULL
                RETURNING pg_notify(@channel, '{PostgresSchema.RunSignalledPrefix}' || CASE WHEN octet_length(workflow_id) <= 7000 THEN workflow_id ELSE '' END)
            )
            SELECT (SELECT status FROM run), EXISTS (SELECT 1 FROM requested)
            """;

        // The run row is share-locked, so the run cannot end between the check and the insert.
        AddSignal = $"""
            WITH run AS (
                SELECT status FROM {s}.runs WHERE workflow_id = @id FOR SHARE
            ), inserted AS (
                INSERT INTO {s}.signals (workflow_id, signal_id, name, payload_json, sent_at)
                SELECT @id, @signal_id, @name, @payload, @sent FROM run WHERE run.status IN (0, 3)
                ON CONFLICT (workflow_id, signal_id) DO NOTHING
                RETURNING position, pg_notify(@channel, '{PostgresSchema.RunSignalledPrefix}' || CASE WHEN octet_length(workflow_id) <= 7000 THEN workflow_id ELSE '' END)
            ), woken AS (
                -- No condition on wake_at: a run unloaded while this statement waited for its row must be woken too.
                UPDATE {s}.runs SET wake_at = NULL WHERE workflow_id = @id AND EXISTS (SELECT 1 FROM inserted)
            )
            SELECT EXISTS (SELECT 1 FROM run), EXISTS (SELECT 1 FROM inserted),
                EXISTS (SELECT 1 FROM {s}.signals WHERE workflow_id = @id AND signal_id = @signal_id), (SELECT status FROM run)
            """;

        // Lock the run (lease check) and the wait's non-terminal row, take the oldest untaken signal of the name, and
        // complete the wait with its payload; or return the wait's row as stored when it is terminal already.
        TakeSignal = $"""
            WITH {Held(s)}, wait AS (
                SELECT j.sequence FROM {s}.journal j JOIN held ON NOT held.cancel
                WHERE j.workflow_id = @id AND j.sequence = @sequence AND j.state = 0 FOR UPDATE OF j
            ), picked AS (
                SELECT g.position, g.payload_json FROM {s}.signals g JOIN wait ON true
                WHERE g.workflow_id = @id AND g.name = @name AND g.taken_by_sequence IS NULL
                ORDER BY g.position LIMIT 1 FOR UPDATE OF g
            ), taken AS (
                UPDATE {s}.signals g SET taken_by_sequence = @sequence FROM picked WHERE g.position = picked.position RETURNING picked.payload_json
            ), written AS (
                UPDATE {s}.journal j SET state = 1, output_json = taken.payload_json, error_type = NULL, error_message = NULL,
                    completion_index = @completion_index, completed_at = @completed, retry_at = NULL
                FROM taken WHERE j.workflow_id = @id AND j.sequence = @sequence
                {s_returningJournal}
            )
            {WrittenOrStored(s, "state <> 0")}
            """;

        const string attemptValues = "@sequence, @operation, @kind, 0, @input::text, NULL, NULL, NULL, 1, NULL, @started, NULL, NULL";
        const string anotherAttempt = "attempts = j.attempts + 1, retry_at = NULL";
        RecordAttempt = WriteEntry(s, startsWork: true, values: attemptValues, onConflict: anotherAttempt);

        // The same, committed without waiting for the WAL flush (synchronous_commit off for this transaction only, set
        // as the run row is locked): the writer's next synchronous commit flushes the WAL past it.
        RecordAttemptDeferred = WriteEntry(s, startsWork: true, values: attemptValues, onConflict: anotherAttempt, deferred: true);
        // Sent as the body starts (the work is under way): a cancel does not refuse it.
        RecordAttemptPipelined = WriteEntry(s, startsWork: false, values: attemptValues, onConflict: anotherAttempt, deferred: true);

        // A compensation is how a cancelled run is rolled back: it is not new work, so a cancel does not stop it.
        RecordCompensationAttempt = WriteEntry(s, startsWork: false, values: attemptValues, onConflict: anotherAttempt);

        // Keeps the failed attempt's error and the next attempt's time on the non-terminal row.
        ScheduleRetry = $"""
            WITH {Held(s)}, written AS (
                UPDATE {s}.journal j SET error_type = @error_type::text, error_message = @error_message::text, retry_at = @retry_at::timestamptz
                FROM held WHERE j.workflow_id = @id AND j.sequence = @sequence AND j.state = 0
                {s_returningJournal}
            )
            {WrittenOrStored(s, "NOT EXISTS (SELECT 1 FROM written)")}
            """;

        CompleteEntry = WriteEntry(s, startsWork: false,
            values: "@sequence, @operation, @kind, @state, @input::text, @output::text, @error_type::text, @error_message::text, @attempts, @completion_index::bigint, @started, @completed::timestamptz, NULL",
            onConflict: """
                state = excluded.state, output_json = excluded.output_json, error_type = excluded.error_type,
                    error_message = excluded.error_message, completion_index = excluded.completion_index, completed_at = excluded.completed_at,
                    retry_at = NULL, attempts = GREATEST(j.attempts, excluded.attempts)
                """);
    }

    private readonly string _listRuns;

    public string GetRun { get; }

    /// <summary>The run listing with only the given conditions (fixed fragments over bound parameters), so indexes serve it.</summary>
    public string ListRuns(string where) => string.Format(System.Globalization.CultureInfo.InvariantCulture, _listRuns, where);

    public string GetJournal { get; }

    public string CreateRun { get; }

    public string Claim { get; }

    public string ListClaimable { get; }

    public string ClaimBatch { get; }
    public string ClaimBatchWithoutHeartbeat { get; }

    public string NextClaimable { get; }

    public string ActiveVersions { get; }

    public string Advertise { get; }

    public string NextWake { get; }

    public string SuspendLock { get; }
    public string Suspend { get; }

    public string Heartbeat { get; }
    public string Release { get; }

    public string CompleteRun { get; }
    public string ContinueRun { get; }

    public string ReviveDeadLetter { get; }

    public string InstanceHolder { get; }

    public string RequestCancel { get; }

    public string AddSignal { get; }
    public string TakeSignal { get; }

    public string RecordAttempt { get; }
    public string RecordAttemptDeferred { get; }
    public string RecordAttemptPipelined { get; }

    /// <summary><see cref="RecordAttempt"/> for a compensation row: written whether or not a cancel was requested.</summary>
    public string RecordCompensationAttempt { get; }

    public string ScheduleRetry { get; }

    public string CompleteEntry { get; }

    /// <summary>
    /// A journal write fenced in its own statement: it share-locks the run row while checking status, owner and epoch
    /// (a takeover's update waits for it, and it waits for a takeover), writes only a non-terminal row — and, when it
    /// <paramref name="startsWork"/>, nothing once a cancel was requested — and returns the stored row (if any) with
    /// whether the writer holds the run and whether a cancel was requested.
    /// </summary>
    private static string WriteEntry(string s, bool startsWork, string values, string onConflict, bool deferred = false) => $"""
        WITH {Held(s, deferred)}, written AS (
            INSERT INTO {s}.journal AS j ({JournalColumns})
            SELECT held.workflow_id, {values} FROM held{(startsWork ? " WHERE NOT held.cancel" : "")}
            ON CONFLICT (workflow_id, sequence) DO UPDATE SET {onConflict} WHERE j.state = 0
            {s_returningJournal}
        )
        {WrittenOrStored(s, "NOT EXISTS (SELECT 1 FROM written)")}
        """;

    /// <summary>The <c>held</c> CTE of a fenced write: the run row, share-locked, when this lease is current; and its cancel flag.</summary>
    private static string Held(string s, bool deferred = false)
        => $"held AS (SELECT workflow_id, cancel_reason IS NOT NULL AS cancel{(deferred ? ", set_config('synchronous_commit', 'off', true)" : "")} FROM {s}.runs WHERE {HeldBy} FOR SHARE)";

    /// <summary>A <c>written</c> CTE's RETURNING clause over journal alias <c>j</c>, in <see cref="JournalColumns"/> order.</summary>
    private static readonly string s_returningJournal = "RETURNING " + string.Join(", ", JournalColumns.Split(", ").Select(c => "j." + c));

    /// <summary>
    /// A fenced write's one result row: the row <c>written</c> returned, or else the stored row where
    /// <paramref name="storedWhen"/> holds, then whether the writer holds the run and whether a cancel was requested.
    /// </summary>
    private static string WrittenOrStored(string s, string storedWhen) => $"""
        SELECT entry.*, h.held, h.cancel FROM (SELECT EXISTS (SELECT 1 FROM held) AS held, coalesce((SELECT cancel FROM held), false) AS cancel) h
        LEFT JOIN (
            SELECT * FROM written
            UNION ALL
            SELECT {JournalColumns} FROM {s}.journal
            WHERE workflow_id = @id AND sequence = @sequence AND EXISTS (SELECT 1 FROM held) AND {storedWhen}
        ) entry ON true
        """;
}
