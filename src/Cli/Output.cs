using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Durably.Cli;

/// <summary>
/// How the CLI prints: aligned tables for people, indented JSON for scripts (<c>--json</c>). Every value from the store
/// passes <see cref="Clean"/> before it reaches a terminal, so an id or an error message holding escape sequences or
/// bidirectional controls cannot repaint or reorder the screen.
/// </summary>
internal static class Output
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static void Json(object value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, s_json));

    /// <summary>Writes <paramref name="rows"/> under <paramref name="headers"/> in aligned columns; a cell longer than <paramref name="width"/> is cut.</summary>
    public static void Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string?>> rows, int width = 48)
    {
        var cells = rows.Select(r => r.Select(c => Cut(Clean(c), width)).ToList()).ToList();
        var widths = headers.Select((h, i) => Math.Max(h.Length, cells.Count == 0 ? 0 : cells.Max(r => r[i].Length))).ToList();
        Console.Out.WriteLine(Line(headers, widths));
        foreach (var row in cells)
        {
            Console.Out.WriteLine(Line(row, widths));
        }
    }

    /// <summary>Label–value lines, the labels aligned.</summary>
    public static void Facts(IEnumerable<(string Label, string? Value)> facts)
    {
        var list = facts.ToList();
        var width = list.Max(f => f.Label.Length);
        foreach (var (label, value) in list)
        {
            Console.Out.WriteLine($"{label.PadRight(width)}  {Clean(value)}");
        }
    }

    public static string Time(DateTimeOffset? time) => time?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) ?? "";

    /// <summary>The text with control and format characters (escape sequences, bidirectional overrides, line breaks) shown as '?'.</summary>
    public static string Clean(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }

        var clean = new StringBuilder(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            var category = Rune.GetUnicodeCategory(rune);
            clean.Append(category is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator ? "?" : rune.ToString());
        }

        return clean.ToString();
    }

    /// <summary>Indented JSON, cut at <paramref name="limit"/> characters with a note; text that is not JSON as it is. Cleaned for a terminal except line breaks.</summary>
    public static string Payload(string? json, int limit)
    {
        if (json is null)
        {
            return "";
        }

        string text;
        try
        {
            using var document = JsonDocument.Parse(json);
            text = JsonSerializer.Serialize(document.RootElement, s_json);
        }
        catch (JsonException)
        {
            text = json;
        }

        var cut = text.Length > limit ? text[..limit] + $"\n… ({text.Length - limit:N0} more characters; --json prints all)" : text;
        return string.Join('\n', cut.Split('\n').Select(Clean));
    }

    private static string Cut(string text, int width) => text.Length <= width ? text : text[..(width - 1)] + "…";

    private static string Line(IReadOnlyList<string> cells, IReadOnlyList<int> widths)
        => string.Join("  ", cells.Select((c, i) => i == cells.Count - 1 ? c : c.PadRight(widths[i]))).TrimEnd();
}
