using System.CommandLine;
using Durably.Runtime;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Cli;

/// <summary>
/// The options every command takes — which store, JSON or tables, who is acting — and the store they open: the
/// runtime's own SQLite or PostgreSQL store, behind <see cref="DurableOperator"/>, with no workflow and no worker (the
/// CLI only reads and records; workers elsewhere carry out what it asks).
/// </summary>
internal static class CliOptions
{
    public const string SqliteVariable = "DURABLY_SQLITE";
    public const string PostgresVariable = "DURABLY_POSTGRES";
    public const string OperatorVariable = "DURABLY_OPERATOR";

    public static readonly Option<string?> Sqlite = new("--sqlite")
    {
        Description = $"The Durably SQLite file to open (or set {SqliteVariable}).",
        Recursive = true,
        HelpName = "file",
    };

    public static readonly Option<string?> Postgres = new("--postgres")
    {
        Description = $"The PostgreSQL connection string (or set {PostgresVariable}).",
        Recursive = true,
        HelpName = "connection string",
    };

    public static readonly Option<string?> Schema = new("--schema")
    {
        Description = "The PostgreSQL schema Durably's tables are in (default: durably).",
        Recursive = true,
    };

    public static readonly Option<bool> Json = new("--json")
    {
        Description = "Print JSON for scripts instead of tables.",
        Recursive = true,
    };

    public static readonly Option<string?> Operator = new("--operator")
    {
        Description = $"Who is acting, recorded with every action (default: {OperatorVariable}, else your user name).",
        Recursive = true,
    };

    public static void AddTo(RootCommand root)
    {
        foreach (var option in new Option[] { Sqlite, Postgres, Schema, Json, Operator })
        {
            root.Options.Add(option);
        }
    }

    /// <summary>Who the actions are recorded as.</summary>
    public static string Actor(ParseResult parse)
        => parse.GetValue(Operator) is { Length: > 0 } named ? named
            : Environment.GetEnvironmentVariable(OperatorVariable) is { Length: > 0 } variable ? variable
            : Environment.UserName;

    /// <summary>Opens the store the command line names; throws, saying how to name one, when it names none or two.</summary>
    public static async Task<OpenStore> OpenAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var sqlite = parse.GetValue(Sqlite) ?? Environment.GetEnvironmentVariable(SqliteVariable);
        var postgres = parse.GetValue(Postgres) ?? Environment.GetEnvironmentVariable(PostgresVariable);
        if (string.IsNullOrWhiteSpace(sqlite) == string.IsNullOrWhiteSpace(postgres))
        {
            throw new ArgumentException(string.IsNullOrWhiteSpace(sqlite)
                ? $"Which store? Pass --sqlite <file> or --postgres <connection string> (or set {SqliteVariable} or {PostgresVariable})."
                : "Both --sqlite and --postgres name a store (by option or environment variable); name one.");
        }

        if (!string.IsNullOrWhiteSpace(sqlite) && !File.Exists(sqlite))
        {
            // The store would create an empty database: for a tool that reads one, a missing file is a mistake.
            throw new FileNotFoundException($"There is no Durably SQLite file at '{Path.GetFullPath(sqlite)}'.", sqlite);
        }

        var services = new ServiceCollection();
        services.AddDurably(o =>
        {
            if (!string.IsNullOrWhiteSpace(sqlite))
            {
                o.UseSqlite(sqlite);
            }
            else
            {
                o.UsePostgres(postgres!, p => p.Schema = parse.GetValue(Schema) ?? p.Schema);
            }
        });
        var provider = services.BuildServiceProvider();
        try
        {
            var store = provider.GetRequiredService<DurableOperator>();
            // Opening the store checks the file or server and its schema now, with the store's own message.
            await store.Client.GetRunAsync("durably-cli-probe", cancellationToken).ConfigureAwait(false);
            return new OpenStore(provider, store);
        }
        catch
        {
            await provider.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}

/// <summary>An opened store, closed when disposed.</summary>
internal sealed class OpenStore(ServiceProvider provider, DurableOperator operations) : IAsyncDisposable
{
    public DurableOperator Operator { get; } = operations;

    public IDurableClient Client => Operator.Client;

    public ValueTask DisposeAsync() => provider.DisposeAsync();
}
