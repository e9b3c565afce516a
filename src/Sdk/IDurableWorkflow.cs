using Durably.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Durably;

/// <summary>
/// Implemented by the Durably generator on every <see cref="DurableWorkflowAttribute">[DurableWorkflow]</see>
/// class. A type that does not implement it was not processed by the generator.
/// </summary>
/// <typeparam name="TSelf">The workflow class.</typeparam>
public interface IDurableWorkflow<TSelf>
    where TSelf : class, IDurableWorkflow<TSelf>
{
    /// <summary>The workflow's run method and step table.</summary>
    static abstract WorkflowDefinition Definition { get; }

    /// <summary>Registers the workflow class and its typed client.</summary>
    /// <param name="services">The service collection.</param>
    static abstract void AddServices(IServiceCollection services);
}
