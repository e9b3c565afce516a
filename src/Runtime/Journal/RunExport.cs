using System.Text.Json;
using System.Text.Json.Serialization;

namespace Durably.Runtime.Journal;

/// <summary>
/// A run and its journal as JSON (<see cref="IDurableClient.ExportRunAsync"/>): the run's row and every journal row,
/// under a format name that says which reader understands it.
/// </summary>
internal static class RunExport
{
    /// <summary>The format this code writes and reads.</summary>
    public const string Format = "durably-run/1";

    private static readonly JsonSerializerOptions s_options = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        // Computed members (IsTerminal, ContinuedAs, …) follow from the stored ones; and a checked-in file reads better unescaped.
        IgnoreReadOnlyProperties = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter() },
    };

    public static string Write(RunSnapshot snapshot)
        => JsonSerializer.Serialize(new Document(Format, snapshot.Run, [.. snapshot.Journal.OrderBy(e => e.Sequence)]), s_options);

    /// <summary>Reads an export back.</summary>
    /// <exception cref="ArgumentException">The text is not an export this code can read, saying why.</exception>
    public static RunSnapshot Read(string json)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(json);
        Document? document;
        try
        {
            document = JsonSerializer.Deserialize<Document>(json, s_options);
        }
        catch (JsonException ex)
        {
            throw new ArgumentException($"The text is not a Durably run export: {ex.Message}", nameof(json), ex);
        }

        if (document is null || document.Format != Format || document.Run is null || document.Journal is null)
        {
            throw new ArgumentException(
                $"The text is not a Durably run export in format '{Format}' (its format is '{document?.Format}'); export runs with IDurableClient.ExportRunAsync.", nameof(json));
        }

        return new RunSnapshot(document.Run, document.Journal);
    }

    private sealed record Document(string Format, RunRecord Run, IReadOnlyList<JournalEntry> Journal);
}
