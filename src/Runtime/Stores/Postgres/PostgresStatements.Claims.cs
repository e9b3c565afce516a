namespace Durably.Runtime.Stores;

/// <summary>What a batch claim reads after it claimed, in the same round trip and transaction.</summary>
internal sealed partial class PostgresStatements
{
    /// <summary>The runs the claim before it in the same batch took (held by @incarnation, updated at the claim's @now).</summary>
    public string LoadClaimedRuns { get; }

    /// <summary>Their journals, run by run, in sequence order.</summary>
    public string LoadClaimedJournals { get; }

    // Later statements of the batch take a new snapshot after the claim locked its rows: a write of a previous holder
    // either committed before (and is read here) or waits for the claim to commit and is then fenced.
    private static (string Runs, string Journals) LoadClaimed(string s, string runs)
    {
        const string claimed = "r.owner_incarnation = @incarnation AND r.status = 0 AND r.updated_at = @now";
        return ($"SELECT {RunColumns} FROM {runs} WHERE {claimed}",
            $"SELECT {string.Join(", ", JournalColumns.Split(", ").Select(c => "j." + c))} FROM {s}.journal j JOIN {s}.runs r ON r.workflow_id = j.workflow_id WHERE {claimed} ORDER BY j.workflow_id, j.sequence");
    }
}
