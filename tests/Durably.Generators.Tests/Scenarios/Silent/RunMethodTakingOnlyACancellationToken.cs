// A run method whose only parameter is a CancellationToken: it was taken for the input, and start failed at run time.
using System.Threading;
using System.Threading.Tasks;
using Durably;

namespace Shapes;

[DurableWorkflow]
public partial class Nightly
{
    [WorkflowRun]
    public async Task RunAsync(CancellationToken cancellationToken) => await Sweep(cancellationToken);

    [Step]
    public Task Sweep(CancellationToken cancellationToken = default) => Task.CompletedTask;
}
