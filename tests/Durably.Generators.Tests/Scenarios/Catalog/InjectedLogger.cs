// (f) An injected ILogger in the run method logs again on every replay; Workflow.Logger does not.
using System.Threading.Tasks;
using Durably;
using Microsoft.Extensions.Logging;

namespace Shapes;

[DurableWorkflow]
public partial class Wrong
{
    private readonly ILogger<Wrong> _logger;

    public Wrong(ILogger<Wrong> logger) => _logger = logger;

    [WorkflowRun]
    public async Task<string> RunAsync(string id)
    {
        _logger.LogInformation("Shipping {Id}", id);
        return await Ship(id);
    }

    [Step]
    public Task<string> Ship(string id)
    {
        _logger.LogInformation("Shipping {Id} for real", id);
        return Task.FromResult(id);
    }
}

[DurableWorkflow]
public partial class Right
{
    [WorkflowRun]
    public async Task<string> RunAsync(string id)
    {
        Workflow.Logger.LogInformation("Shipping {Id}", id);
        return await Ship(id);
    }

    [Step]
    public Task<string> Ship(string id) => Task.FromResult(id);
}
