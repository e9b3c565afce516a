using Npgsql;

namespace Durably.Runtime.Tests.Support;

/// <summary>
/// A class fixture: one empty database on the test run's <see cref="PostgresServer"/> for one test class, dropped
/// afterwards.
/// </summary>
public sealed class PostgresDatabase : IAsyncLifetime
{
    private string? _connectionString;

    /// <summary>The database's name.</summary>
    public string Name { get; } = "durably_test_" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>A connection string to this database as a user that owns it.</summary>
    public string ConnectionString => _connectionString ?? throw new InvalidOperationException("The database is not created yet.");

    /// <summary>Whether the cluster was started by this test run (so tests may, for example, terminate its backends freely).</summary>
    public bool IsThrowaway => PostgresServer.Instance.IsThrowaway;

    /// <summary>Runs one statement on this database, on a connection of its own, and returns the first value it selects.</summary>
    public async Task<object?> ScalarAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return await command.ExecuteScalarAsync();
    }

    /// <summary>
    /// Locks run <paramref name="workflowId"/>'s row of <paramref name="schema"/> in a transaction of its own: a store's
    /// write for that run waits at the server (and the writes queued behind it wait too) until the hold commits.
    /// </summary>
    public async Task<RowHold> HoldRunAsync(string schema, string workflowId)
    {
        var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        var transaction = await connection.BeginTransactionAsync();
        await using (var hold = new NpgsqlCommand($"SELECT 1 FROM \"{schema}\".runs WHERE workflow_id = @id FOR UPDATE", connection, transaction))
        {
            hold.Parameters.AddWithValue("id", workflowId);
            await hold.ExecuteScalarAsync();
        }

        return new RowHold(connection, transaction);
    }

    /// <summary>Waits until one statement of <paramref name="schema"/> waits for a lock (a write held up by <see cref="HoldRunAsync"/>).</summary>
    /// <remarks>Polls on its own (this fixture is shared with test projects that do not have <c>Wait</c>).</remarks>
    public async Task UntilBlockedAsync(string schema)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await ScalarAsync("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%' || @schema || '%'", ("schema", schema)) is not 1L)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"No statement of schema '{schema}' waited for the held row within 30 s.");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>A row held by <see cref="HoldRunAsync"/>: <see cref="Transaction"/>'s commit lets the waiting writes go.</summary>
    public sealed record RowHold(NpgsqlConnection Connection, NpgsqlTransaction Transaction) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Transaction.DisposeAsync();
            await Connection.DisposeAsync();
        }
    }

    /// <summary>Runs one statement as the cluster's administrator on its maintenance database (to act on this one from outside).</summary>
    public async Task<object?> AdminScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(PostgresServer.Instance.AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    /// <summary>
    /// Waits until no other session is connected to this database. A killed client's server session finishes the
    /// statement it was running (a COMMIT included) before it notices its client is gone: read the state a kill left
    /// only after this returns.
    /// </summary>
    public async Task WaitForOtherSessionsToEndAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        long others;
        while ((others = Convert.ToInt64(await ScalarAsync(
                   "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"))) > 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{others} session(s) of database {Name} were still connected 30 s after their client was killed.");
            }

            await Task.Delay(20);
        }
    }

    /// <inheritdoc/>
    public async Task InitializeAsync()
    {
        var server = PostgresServer.Instance;
        await using (var connection = new NpgsqlConnection(server.AdminConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{Name}\"", connection);
            await create.ExecuteNonQueryAsync();
        }

        _connectionString = new NpgsqlConnectionStringBuilder(server.AdminConnectionString) { Database = Name }.ConnectionString;
    }

    /// <inheritdoc/>
    public async Task DisposeAsync()
    {
        if (_connectionString is null)
        {
            return;
        }

        await using var connection = new NpgsqlConnection(PostgresServer.Instance.AdminConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
