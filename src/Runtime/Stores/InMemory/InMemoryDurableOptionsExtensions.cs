using Durably.Runtime.Stores;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime;

/// <summary>Chooses the in-memory store.</summary>
public static class InMemoryDurableOptionsExtensions
{
    /// <summary>Keeps runs in process memory: for tests, or where losing the journal with the process is acceptable.</summary>
    /// <param name="options">The options to set <see cref="DurableOptions.StoreFactory"/> on.</param>
    /// <returns>The options.</returns>
    public static DurableOptions UseInMemoryStore(this DurableOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.StoreFactory = static services => new InMemoryWorkflowStore(services.GetService<TimeProvider>());
        return options;
    }
}
