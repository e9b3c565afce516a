namespace Durably.Runtime.Journal;

/// <summary>
/// The open transaction a transactional store began for one attempt of a <c>[Step(Transactional = true)]</c>, in the
/// journal's own database: the step's writes and its completed journal row commit together or not at all. The engine
/// carries it from the attempt to the event loop, which hands it back to the store to commit; it never looks inside.
/// Each store derives its own type, which the step body reaches through that store's extension method on
/// <see cref="StepContext"/> (for PostgreSQL, <c>StepContext.Current.GetPostgresTransaction()</c>).
/// </summary>
public abstract class StepTransaction : IAsyncDisposable
{
    /// <summary>Only the stores of this assembly begin step transactions.</summary>
    private protected StepTransaction()
    {
    }

    /// <summary>Rolls back whatever was not committed and closes the transaction's connection.</summary>
    /// <returns>A task that completes once closed.</returns>
    public abstract ValueTask DisposeAsync();
}
