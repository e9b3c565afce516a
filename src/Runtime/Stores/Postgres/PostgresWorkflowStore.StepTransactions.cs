using Durably.Runtime.Journal;
using Npgsql;

namespace Durably.Runtime.Stores;

/// <summary>Transactional steps: an attempt's transaction on the journal's database, committed with the step's journal row.</summary>
public sealed partial class PostgresWorkflowStore
{
    /// <inheritdoc/>
    async Task<StepTransaction> ITransactionalStepStore.BeginStepTransactionAsync(CancellationToken cancellationToken)
    {
        var connection = await ExecuteAsync("open a step's transaction", token => _stepDataSource.OpenConnectionAsync(token).AsTask(), cancellationToken).ConfigureAwait(false);
        try
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            return new PostgresStepTransaction(connection, transaction);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <inheritdoc/>
    async Task<JournalWriteResult> ITransactionalStepStore.CommitStepAsync(RunLease lease, JournalEntry entry, StepTransaction begun, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(entry);
        var transaction = begun as PostgresStepTransaction ?? throw new ArgumentException(
            $"The PostgreSQL store commits only the step transactions it began; this one is a {begun?.GetType().Name ?? "null"}.", nameof(begun));
        await using (transaction.ConfigureAwait(false))
        {
            try
            {
                JournalWriteResult result;
                await using (var command = new NpgsqlCommand(_sql.CompleteEntry, transaction.Connection, transaction.Transaction))
                {
                    foreach (var (name, value) in EntryParameters(lease, entry with { WorkflowId = lease.WorkflowId }))
                    {
                        command.Parameters.AddWithValue(name, value ?? DBNull.Value);
                    }

                    await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                    await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                    result = ReadWriteResult(reader, startsWork: false);
                }

                // The fenced journal update is the last statement: commit only when it wrote this attempt's outcome.
                if (result.Entry is { } stored && stored.State == entry.State && stored.CompletionIndex == entry.CompletionIndex && stored.Attempts == entry.Attempts)
                {
                    await transaction.Transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
                }
                else
                {
                    await transaction.Transaction.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
                }

                return result;
            }
            catch (NpgsqlException ex)
            {
                throw new DurableStoreException(
                    $"PostgreSQL could not commit the transaction of step '{entry.OperationId}' (sequence {entry.Sequence}) of run '{lease.WorkflowId}' at {Server}: {ex.Message}. "
                    + "Whether it committed is unknown; the next execution reads the journal and either replays the step or runs it again.", PostgresRetry.Classify(ex), ex);
            }
        }
    }
}
