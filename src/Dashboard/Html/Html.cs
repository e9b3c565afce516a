using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Encodings.Web;

namespace Durably.Dashboard;

/// <summary>
/// Markup that is already safe to send: built by <see cref="HtmlBuilder"/>, whose holes are encoded, or a constant.
/// Every string from a run, an operator or a request reaches the page only through a hole, so a hostile value
/// (<c>&lt;script&gt;</c> in an id, an input or an error message) is shown as text, never run.
/// </summary>
internal readonly struct Html
{
    private readonly string? _markup;

    private Html(string markup) => _markup = markup;

    /// <summary>Nothing.</summary>
    public static Html Empty => default;

    /// <summary>The markup.</summary>
    public override string ToString() => _markup ?? "";

    /// <summary>Builds markup from an interpolated string: literals pass as written, holes are HTML-encoded.</summary>
    public static Html Of([InterpolatedStringHandlerArgument] HtmlBuilder builder) => new(builder.Build());

    /// <summary>Joins fragments.</summary>
    public static Html Join(IEnumerable<Html> parts) => new(string.Concat(parts.Select(p => p._markup)));

    /// <summary>A constant piece of markup written in this assembly; never pass it anything read at run time.</summary>
    public static Html Trusted(string markup) => new(markup);
}

/// <summary>
/// The interpolated-string handler behind <see cref="Html.Of"/>: literal parts are the page's own markup, every hole is
/// encoded for an HTML element or a quoted attribute — except an <see cref="Html"/> value, already safe.
/// </summary>
[InterpolatedStringHandler]
internal ref struct HtmlBuilder
{
    /// <summary>Encodes &lt;, &gt;, &amp;, quotes and control characters, and leaves letters of every script readable.</summary>
    private static readonly HtmlEncoder Encoder = HtmlEncoder.Create(System.Text.Unicode.UnicodeRanges.All);

    private readonly StringBuilder _text;

    public HtmlBuilder(int literalLength, int formattedCount)
    {
        _text = new StringBuilder(literalLength + (formattedCount * 16));
    }

    public readonly void AppendLiteral(string literal) => _text.Append(literal);

    public readonly void AppendFormatted(Html html) => _text.Append(html.ToString());

    public readonly void AppendFormatted(string? value) => _text.Append(Encoder.Encode(value ?? ""));

    public readonly void AppendFormatted<T>(T value)
        => _text.Append(Encoder.Encode(value switch
        {
            null => "",
            IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString() ?? "",
        }));

    public readonly void AppendFormatted<T>(T value, string format) where T : IFormattable
        => _text.Append(Encoder.Encode(value.ToString(format, CultureInfo.InvariantCulture)));

    public readonly string Build() => _text.ToString();
}
