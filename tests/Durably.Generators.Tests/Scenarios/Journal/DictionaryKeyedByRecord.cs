// A dictionary keyed by a record: System.Text.Json cannot read such keys back.
using System.Collections.Generic;
using System.Threading.Tasks;
using Durably;

namespace Shapes;

public sealed record Cell(int Row, int Column);

[DurableWorkflow]
public partial class Sheet
{
    [WorkflowRun]
    public async Task<int> RunAsync(int size) => (await Fill(size)).Count;

    [Step]
    public Task<Dictionary<Cell, string>> Fill(int size) => Task.FromResult(new Dictionary<Cell, string> { [new Cell(1, 1)] = "a" });
}
