// A private nested type as the run's input: the client cannot name it.
using System.Threading.Tasks;
using Durably;

namespace Shapes;

[DurableWorkflow]
public partial class Import
{
    [WorkflowRun]
    private async Task<int> RunAsync(Batch batch) => await Load(batch.Size);

    [Step]
    public Task<int> Load(int size) => Task.FromResult(size);

    private sealed record Batch(int Size);
}
