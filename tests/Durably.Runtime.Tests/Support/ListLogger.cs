using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Durably.Runtime.Tests.Support;

/// <summary>Keeps every log line, so a test can see what the runtime reported.</summary>
internal sealed class ListLogger : ILogger
{
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly ConcurrentQueue<LogRecord> _records = new();

    public IReadOnlyList<string> Lines => [.. _lines];

    /// <summary>Every line with its level and exception, for tests that look at what a line carried.</summary>
    public IReadOnlyList<LogRecord> Records => [.. _records];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull
        => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        _lines.Enqueue($"{logLevel}: {formatter(state, exception)}");
        _records.Enqueue(new LogRecord(logLevel, formatter(state, exception), exception));
    }
}

internal sealed record LogRecord(LogLevel Level, string Message, Exception? Exception);
