using System;
using System.Text;

namespace Durably.Generators.Emitting;

/// <summary>A small indenting text writer for generated source. Always writes LF line endings.</summary>
internal sealed class SourceWriter
{
    private readonly StringBuilder _builder = new();
    private int _indent;

    public SourceWriter Line(string text = "")
    {
        if (text.Length > 0)
        {
            _builder.Append(' ', _indent * 4);
            _builder.Append(text);
        }

        _builder.Append('\n');
        return this;
    }

    /// <summary>Writes <paramref name="header"/>, an opening brace, and indents until the result is disposed.</summary>
    public IDisposable Block(string header)
    {
        Line(header);
        Line("{");
        _indent++;
        return new Closer(this);
    }

    public override string ToString() => _builder.ToString();

    private sealed class Closer : IDisposable
    {
        private readonly SourceWriter _writer;
        private bool _closed;

        public Closer(SourceWriter writer) => _writer = writer;

        public void Dispose()
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            _writer._indent--;
            _writer.Line("}");
        }
    }
}
