using Durably.Runtime.Journal;
using static Durably.Runtime.Stores.SqliteCommands;
using static Durably.Runtime.Stores.SqliteSchema;

namespace Durably.Runtime.Stores;

/// <summary>Runs created with their journal, in one transaction.</summary>
public sealed partial class SqliteWorkflowStore : IWorkflowStoreReruns
{
    /// <inheritdoc/>
    public Task<bool> CreateRunWithJournalAsync(RunRecord run, IReadOnlyList<JournalEntry> journal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(journal);
        return WriteAsync(connection =>
        {
            if (ReadRun(connection, run.WorkflowId) is not null)
            {
                return false;
            }

            Execute(connection, $"INSERT INTO runs ({RunColumns}) VALUES ($id, $name, $version, $input, $status, $output, $error_type, $error_message, $owner, $epoch, $lease, $created, $updated, $wake, $generation, $cancel_reason, $failed_sequence, $instance_key, $fingerprint, $seed);",
                RunParameters(run));
            foreach (var entry in journal)
            {
                Execute(connection, $"""
                    INSERT INTO journal ({JournalColumns})
                    VALUES ($id, $sequence, $operation, $kind, $state, $input, $output, $error_type, $error_message, $attempts, $completion_index, $started, $completed, NULL);
                    """, EntryParameters(entry with { WorkflowId = run.WorkflowId }));
            }

            return true;
        }, cancellationToken);
    }
}
