using Microsoft.Extensions.Logging;

namespace Durably.Runtime.Tests.Support;

/// <summary>Hands every category the same <see cref="ListLogger"/>, so a test sees all the runtime logged.</summary>
internal sealed class ListLoggerFactory : ILoggerFactory
{
    public ListLogger Log { get; } = new();

    public ILogger CreateLogger(string categoryName) => Log;

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

    public void Dispose()
    {
    }
}
