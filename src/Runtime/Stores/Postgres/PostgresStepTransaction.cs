using Durably.Runtime.Journal;
using Npgsql;

namespace Durably.Runtime;

/// <summary>
/// The transaction of one attempt of a <c>[Step(Transactional = true)]</c>, on the journal's PostgreSQL database: write
/// through <see cref="Connection"/> within <see cref="Transaction"/>, and those writes commit together with the step's
/// completed journal row — the fenced journal update is the transaction's last statement, and the engine commits only
/// when it wrote its row (a worker that lost the run rolls back). Do not commit, roll back or dispose it yourself.
/// </summary>
public sealed class PostgresStepTransaction : StepTransaction
{
    internal PostgresStepTransaction(NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        Connection = connection;
        Transaction = transaction;
    }

    /// <summary>The open connection to the journal's database.</summary>
    public NpgsqlConnection Connection { get; }

    /// <summary>The attempt's transaction: pass it to every command (<c>new NpgsqlCommand(sql, Connection, Transaction)</c>).</summary>
    public NpgsqlTransaction Transaction { get; }

    /// <summary>Rolls back whatever was not committed and closes the connection.</summary>
    /// <returns>A task that completes once closed.</returns>
    public override async ValueTask DisposeAsync()
    {
        await Transaction.DisposeAsync().ConfigureAwait(false);
        await Connection.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>Reaches the database transaction of a transactional step from its body.</summary>
public static class PostgresStepContextExtensions
{
    /// <summary>
    /// The PostgreSQL transaction of the current attempt of a <c>[Step(Transactional = true)]</c>: its writes commit
    /// with the step's journal row, or not at all.
    /// </summary>
    /// <param name="context">The step's context (<see cref="StepContext.Current"/>).</param>
    /// <returns>The attempt's connection and transaction.</returns>
    /// <exception cref="InvalidOperationException">The code is not running in an attempt of a transactional step.</exception>
    public static PostgresStepTransaction GetPostgresTransaction(this StepContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.StoreTransaction as PostgresStepTransaction ?? throw new InvalidOperationException(
            $"Step '{context.StepId}' of run '{context.WorkflowId}' has no database transaction: only a [Step(Transactional = true)] body, on the PostgreSQL store, gets one.");
    }
}
