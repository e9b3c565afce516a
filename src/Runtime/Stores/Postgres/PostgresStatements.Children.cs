namespace Durably.Runtime.Stores;

/// <summary>Child runs: table run_children links each to its parent; a child's end wakes an unloaded parent in the same transaction.</summary>
internal sealed partial class PostgresStatements
{
    /// <summary>Creates the child (unowned, telling idle workers) and its link, unless its id is taken; returns how many it created.</summary>
    public string CreateChildRun { get; }

    public string GetParent { get; }

    /// <summary>The links of the runs in @ids (a text array) that have a parent.</summary>
    public string GetParents => GetParent.Replace("child_id = @id", "child_id = ANY(@ids)", StringComparison.Ordinal);

    public string ListChildren { get; }

    /// <summary>After a run's end in the same batch: locks its parent's row, ordering the end with the parent's unload (see <see cref="AwaitedChildEnded"/>).</summary>
    public string LockParent { get; }

    /// <summary>
    /// After a cancel request in the same batch (a new statement, so it sees every child created before the request's
    /// lock): asks the run's running descendants to cancel, waking them; a child being created meanwhile locks the parent
    /// first and then starts cancelled (<see cref="CreateChildRun"/>).
    /// </summary>
    public string CancelDescendants { get; }

    /// <summary>After <see cref="LockParent"/>: wakes the parent if unloaded waiting, and only if the end was written (@id ended).</summary>
    public string WakeParent { get; }

    /// <summary>
    /// In an unload's batch, after its lock on the run's row: whether a child that one of the run's rows awaits has ended.
    /// A child's end takes the same row lock before it looks whether to wake the parent, so either the end committed
    /// before this look (and is seen here: the run does not unload) or it waits for the unload to commit (and wakes it).
    /// </summary>
    public string AwaitedChildEnded { get; }

    /// <summary>After a continue-as-new in the same batch: the run that carries on takes the ended run's link, if it was created.</summary>
    public string HandOnParent { get; }

    private static (string Create, string Parent, string Children, string Lock, string Wake, string Awaited, string HandOn, string Cancel) Children(string s) =>
    (
        $"""
        WITH parent AS (
            SELECT cancel_reason FROM {s}.runs WHERE workflow_id = @parent FOR SHARE
        ), inserted AS (
            INSERT INTO {s}.runs (workflow_id, workflow_name, version, input_json, status, epoch, created_at, updated_at, generation, fingerprint, seed, cancel_reason)
            VALUES (@id, @name, @version, @input, 0, 0, @created, @created, 0, @fingerprint::text, @seed::text,
                (SELECT 'parent run ' || quote_literal(@parent) || ' was cancelled: ' || cancel_reason FROM parent WHERE NOT @abandon))
            ON CONFLICT DO NOTHING
            RETURNING workflow_id, pg_notify(@channel, '{PostgresSchema.RunsAvailablePayload}')
        ), linked AS (
            INSERT INTO {s}.run_children (child_id, parent_id, parent_sequence, abandon) SELECT workflow_id, @parent, @parent_sequence, @abandon FROM inserted
        )
        SELECT count(*) FROM inserted
        """,
        $"SELECT child_id, parent_id, parent_sequence, abandon FROM {s}.run_children WHERE child_id = @id",
        $"SELECT child_id, parent_id, parent_sequence, abandon FROM {s}.run_children WHERE parent_id = @id ORDER BY parent_sequence, child_id",
        $"SELECT 1 FROM {s}.runs p WHERE p.workflow_id = (SELECT parent_id FROM {s}.run_children WHERE child_id = @id) FOR UPDATE",
        $"""
        UPDATE {s}.runs p SET wake_at = NULL FROM {s}.run_children c
        WHERE c.child_id = @id AND p.workflow_id = c.parent_id AND p.status = 0 AND p.wake_at IS NOT NULL
            AND EXISTS (SELECT 1 FROM {s}.runs e WHERE e.workflow_id = @id AND e.status <> 0)
        RETURNING pg_notify(@channel, '{PostgresSchema.RunsAvailablePayload}')
        """,
        $"""
        SELECT EXISTS (
            SELECT 1 FROM {s}.run_children c
            JOIN {s}.runs child ON child.workflow_id = c.child_id
            JOIN {s}.journal j ON j.workflow_id = c.parent_id AND j.sequence = c.parent_sequence
            WHERE c.parent_id = @id AND child.status IN ({string.Join(", ", Durably.Runtime.Journal.ChildLink.WakingStatuses.Select(w => (int)w))}) AND j.state = 0)
        """,
        $"""
        INSERT INTO {s}.run_children (child_id, parent_id, parent_sequence, abandon)
        SELECT @next_id, parent_id, parent_sequence, abandon FROM {s}.run_children
        WHERE child_id = @id AND EXISTS (SELECT 1 FROM {s}.runs n WHERE n.workflow_id = @next_id)
        ON CONFLICT DO NOTHING
        """,
        $"""
        WITH RECURSIVE descendants(id) AS (
            SELECT child_id FROM {s}.run_children WHERE parent_id = @id AND NOT abandon
            UNION SELECT c.child_id FROM {s}.run_children c JOIN descendants d ON c.parent_id = d.id WHERE NOT c.abandon)
        UPDATE {s}.runs SET cancel_reason = @child_reason, wake_at = NULL, updated_at = @now
        WHERE workflow_id IN (SELECT id FROM descendants) AND status = 0 AND cancel_reason IS NULL
            AND EXISTS (SELECT 1 FROM {s}.runs p WHERE p.workflow_id = @id AND p.cancel_reason IS NOT NULL)
        RETURNING pg_notify(@channel, '{PostgresSchema.RunSignalledPrefix}' || CASE WHEN octet_length(workflow_id) <= 7000 THEN workflow_id ELSE '' END)
        """);
}
