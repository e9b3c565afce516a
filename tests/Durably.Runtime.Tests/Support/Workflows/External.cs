
namespace Durably.Runtime.Tests.Support;

// Workflows that reach real outside systems: an HTTP API, the journal's own database.

/// <summary>The payment API's answer.</summary>
internal sealed record Charge(string Id, decimal Amount);

/// <summary>
/// Charges a card through an HTTP API, passing the step's idempotency key as the <c>Idempotency-Key</c> header: the
/// example of docs/idempotency-keys.md.
/// </summary>
[DurableWorkflow]
internal partial class HttpCheckout(HttpClient http)
{
    [WorkflowRun]
    public async Task<string> RunAsync(decimal amount) => (await ChargeCard(amount)).Id;

    [Step(MaxAttempts = 3, InitialDelay = "0s")]
    private async Task<Charge> ChargeCard(decimal amount, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "charges")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { amount }),
        };
        // The same key on every attempt, replay and worker: the API charges once however often this body runs.
        request.Headers.Add("Idempotency-Key", StepContext.Current!.IdempotencyKey);
        using var response = await http.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
        return (await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<Charge>(response.Content, cancellationToken))!;
    }
}

/// <summary>What <see cref="Ledger"/>'s step does after its insert, before it returns; and which attempts fail there.</summary>
internal sealed class LedgerScript
{
    public Func<int, CancellationToken, Task> AfterInsert { get; set; } = (_, _) => Task.CompletedTask;
}

/// <summary>
/// Books a ledger entry with a transactional step: the row it inserts, through the step's own transaction, commits with
/// the step's journal row or not at all.
/// </summary>
[DurableWorkflow]
internal partial class Ledger(LedgerScript script)
{
    [WorkflowRun]
    public async Task<int> RunAsync(string entry) => await Book(entry);

    [Step(Transactional = true, MaxAttempts = 3, InitialDelay = "0s")]
    private async Task<int> Book(string entry, CancellationToken cancellationToken = default)
    {
        var step = StepContext.Current!;
        var db = step.GetPostgresTransaction();
        await using (var insert = new Npgsql.NpgsqlCommand("INSERT INTO ledger_rows (entry, idempotency_key, attempt) VALUES (@entry, @key, @attempt)", db.Connection, db.Transaction))
        {
            insert.Parameters.AddWithValue("entry", entry);
            insert.Parameters.AddWithValue("key", step.IdempotencyKey);
            insert.Parameters.AddWithValue("attempt", step.Attempt);
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await script.AfterInsert(step.Attempt, cancellationToken);
        return step.Attempt;
    }
}
