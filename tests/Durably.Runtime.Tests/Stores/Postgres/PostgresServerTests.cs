using Durably.Runtime.Tests.Support;
using Npgsql;

namespace Durably.Runtime.Tests.Stores.Postgres;

/// <summary>The test PostgreSQL server is real, durable and private to this test class's database.</summary>
public sealed class PostgresServerTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    [Fact]
    public async Task Each_test_class_gets_its_own_database_on_a_real_server_with_fsync_on()
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT current_database(), current_setting('fsync'), host(inet_server_addr()), (SELECT count(*) FROM pg_tables WHERE schemaname = 'public')", connection);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());

        Assert.Equal(database.Name, reader.GetString(0));
        Assert.Equal("on", reader.GetString(1));
        if (database.IsThrowaway)
        {
            Assert.Equal("127.0.0.1", reader.GetString(2));
        }

        Assert.Equal(0L, reader.GetInt64(3));
    }
}
