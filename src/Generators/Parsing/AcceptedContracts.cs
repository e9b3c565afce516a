using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using Durably.Generators.Model;

namespace Durably.Generators.Parsing;

/// <summary>One workflow version's accepted contract, as <c>durably.contracts.json</c> holds it.</summary>
/// <param name="Name">The workflow's name.</param>
/// <param name="Version">Its version.</param>
/// <param name="Facts">The contract, one fact per line (see <c>WorkflowParser.Contract</c>).</param>
internal sealed record AcceptedContract(string Name, int Version, EquatableArray<string> Facts);

/// <summary>The project's <c>durably.contracts.json</c>: the accepted contracts, or why the file cannot be read.</summary>
/// <param name="Path">The file's path.</param>
/// <param name="Contracts">The accepted contracts.</param>
/// <param name="Problem">What is wrong with the file, or null.</param>
internal sealed record AcceptedContracts(string Path, EquatableArray<AcceptedContract> Contracts, string? Problem)
{
    public const string FileName = "durably.contracts.json";

    public static readonly AcceptedContracts None = new(string.Empty, EquatableArray<AcceptedContract>.Empty, null);

    /// <summary>Reads the file's text: <c>{ "workflows": [ { "name", "version", "contract": [ … ] } ] }</c>.</summary>
    public static AcceptedContracts Read(string path, string text)
    {
        try
        {
            var root = new Json(text).ReadDocument() as Dictionary<string, object?> ?? throw new JsonProblem("the file is not a JSON object", 0);
            if (!root.TryGetValue("workflows", out var list) || list is not List<object?> workflows)
            {
                throw new JsonProblem("it has no \"workflows\" array", 0);
            }

            var contracts = new List<AcceptedContract>();
            foreach (var item in workflows)
            {
                if (item is not Dictionary<string, object?> workflow
                    || !workflow.TryGetValue("name", out var name) || name is not string workflowName
                    || !workflow.TryGetValue("version", out var version) || version is not double number || number != System.Math.Floor(number)
                    || !workflow.TryGetValue("contract", out var facts) || facts is not List<object?> lines || lines.Any(l => l is not string))
                {
                    throw new JsonProblem("each workflow needs a \"name\" (a string), a \"version\" (a whole number) and a \"contract\" (an array of strings)", 0);
                }

                contracts.Add(new AcceptedContract(workflowName, (int)number, new EquatableArray<string>([.. lines.Cast<string>()])));
            }

            return new AcceptedContracts(path, new EquatableArray<AcceptedContract>([.. contracts]), null);
        }
        catch (JsonProblem problem)
        {
            return new AcceptedContracts(path, EquatableArray<AcceptedContract>.Empty, problem.Position > 0 ? $"{problem.Message} (at character {problem.Position})" : problem.Message);
        }
    }

    private sealed class JsonProblem(string message, int position) : System.Exception(message)
    {
        public int Position { get; } = position;
    }

    /// <summary>Just enough JSON: objects, arrays, strings, numbers, true, false, null.</summary>
    private sealed class Json(string text)
    {
        private int _at;

        public object? ReadDocument()
        {
            var value = ReadValue();
            SkipSpace();
            return _at == text.Length ? value : throw Problem("text follows the JSON value");
        }

        private object? ReadValue()
        {
            SkipSpace();
            if (_at >= text.Length)
            {
                throw Problem("the text ends where a value should be");
            }

            switch (text[_at])
            {
                case '{':
                    return ReadObject();
                case '[':
                    return ReadArray();
                case '"':
                    return ReadString();
                case 't' when Take("true"):
                    return true;
                case 'f' when Take("false"):
                    return false;
                case 'n' when Take("null"):
                    return null;
                case var c when c == '-' || char.IsDigit(c):
                    return ReadNumber();
                default:
                    throw Problem($"'{text[_at]}' cannot start a value");
            }
        }

        private Dictionary<string, object?> ReadObject()
        {
            var result = new Dictionary<string, object?>(System.StringComparer.Ordinal);
            _at++;
            SkipSpace();
            if (Peek('}'))
            {
                _at++;
                return result;
            }

            while (true)
            {
                SkipSpace();
                if (!Peek('"'))
                {
                    throw Problem("a property name (a string) was expected");
                }

                var key = ReadString();
                Expect(':');
                result[key] = ReadValue();
                SkipSpace();
                if (Peek(','))
                {
                    _at++;
                    continue;
                }

                Expect('}');
                return result;
            }
        }

        private List<object?> ReadArray()
        {
            var result = new List<object?>();
            _at++;
            SkipSpace();
            if (Peek(']'))
            {
                _at++;
                return result;
            }

            while (true)
            {
                result.Add(ReadValue());
                SkipSpace();
                if (Peek(','))
                {
                    _at++;
                    continue;
                }

                Expect(']');
                return result;
            }
        }

        private string ReadString()
        {
            var value = new StringBuilder();
            _at++;
            while (_at < text.Length && text[_at] != '"')
            {
                var c = text[_at++];
                if (c != '\\')
                {
                    value.Append(c);
                    continue;
                }

                if (_at >= text.Length)
                {
                    break;
                }

                var escaped = text[_at++];
                switch (escaped)
                {
                    case '"' or '\\' or '/':
                        value.Append(escaped);
                        break;
                    case 'b':
                        value.Append('\b');
                        break;
                    case 'f':
                        value.Append('\f');
                        break;
                    case 'n':
                        value.Append('\n');
                        break;
                    case 'r':
                        value.Append('\r');
                        break;
                    case 't':
                        value.Append('\t');
                        break;
                    case 'u' when _at + 4 <= text.Length && int.TryParse(text.Substring(_at, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var code):
                        value.Append((char)code);
                        _at += 4;
                        break;
                    default:
                        throw Problem($"'\\{escaped}' is not a string escape");
                }
            }

            if (_at >= text.Length)
            {
                throw Problem("a string is not closed");
            }

            _at++;
            return value.ToString();
        }

        private double ReadNumber()
        {
            var start = _at;
            while (_at < text.Length && (char.IsDigit(text[_at]) || text[_at] is '-' or '+' or '.' or 'e' or 'E'))
            {
                _at++;
            }

            return double.TryParse(text.Substring(start, _at - start), NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
                ? number
                : throw Problem("a number cannot be read");
        }

        private bool Take(string word)
        {
            if (string.CompareOrdinal(text, _at, word, 0, word.Length) != 0)
            {
                return false;
            }

            _at += word.Length;
            return true;
        }

        private void Expect(char c)
        {
            SkipSpace();
            if (!Peek(c))
            {
                throw Problem($"'{c}' was expected");
            }

            _at++;
        }

        private bool Peek(char c) => _at < text.Length && text[_at] == c;

        private void SkipSpace()
        {
            while (_at < text.Length && char.IsWhiteSpace(text[_at]))
            {
                _at++;
            }
        }

        private JsonProblem Problem(string message) => new(message, _at + 1);
    }
}
