using System.Text.RegularExpressions;

namespace Durably.Runtime;

/// <summary>Settings of the PostgreSQL store.</summary>
public sealed partial class PostgresStoreOptions
{
    /// <summary>The schema Durably's tables live in unless configured otherwise.</summary>
    public const string DefaultSchema = "durably";

    /// <summary>How long a store call keeps retrying while the database does not answer, unless configured otherwise.</summary>
    public static readonly TimeSpan DefaultRetryBudget = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The schema that holds Durably's tables, created if missing: a lower-case identifier of letters, digits and
    /// underscores, starting with a letter or underscore, at most 63 characters, not starting with <c>pg_</c>.
    /// </summary>
    public string Schema { get; set; } = DefaultSchema;

    /// <summary>
    /// How long one store call keeps retrying, with exponential backoff and jitter, when the database connection fails
    /// or the server is restarting; after that the call fails with a <see cref="DurableStoreException"/>.
    /// </summary>
    public TimeSpan RetryBudget { get; set; } = DefaultRetryBudget;

    /// <summary>Throws, naming the setting and its value, when a setting is invalid.</summary>
    /// <exception cref="ArgumentException">A setting is invalid.</exception>
    public void Validate()
    {
        ValidateSchema(Schema);
        if (RetryBudget < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(RetryBudget), RetryBudget, "PostgresStoreOptions.RetryBudget must not be negative.");
        }
    }

    /// <summary>Throws unless <paramref name="schema"/> is a plain lower-case PostgreSQL identifier Durably may own.</summary>
    /// <param name="schema">The schema name.</param>
    /// <exception cref="ArgumentException">The name is not allowed.</exception>
    public static void ValidateSchema(string? schema)
    {
        if (string.IsNullOrEmpty(schema))
        {
            throw new ArgumentException("The Durably schema name must not be empty.", nameof(schema));
        }

        var shown = schema.Length > 80 ? schema[..80] + "…" : schema;
        if (!Identifier().IsMatch(schema))
        {
            throw new ArgumentException(
                $"The Durably schema name '{Escape(shown)}' ({schema.Length} characters) is not allowed: use 1 to 63 lower-case letters, digits " +
                "and underscores, starting with a letter or underscore (for example 'durably').", nameof(schema));
        }

        if (schema.StartsWith("pg_", StringComparison.Ordinal) || schema == "information_schema")
        {
            throw new ArgumentException($"The Durably schema name '{schema}' is reserved by PostgreSQL; choose another (for example 'durably').", nameof(schema));
        }
    }

    private static string Escape(string value)
    {
        var builder = new System.Text.StringBuilder(value.Length);
        foreach (var c in value)
        {
            builder.Append(char.IsControl(c) ? $"\\u{(int)c:X4}" : c.ToString());
        }

        return builder.ToString();
    }

    [GeneratedRegex(@"^[a-z_][a-z0-9_]{0,62}\z", RegexOptions.CultureInvariant)]
    private static partial Regex Identifier();
}
