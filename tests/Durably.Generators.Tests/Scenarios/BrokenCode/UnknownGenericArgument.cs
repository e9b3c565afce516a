// An unresolved type as a type argument of a step result.
using System.Collections.Generic;
using System.Threading.Tasks;
using Durably;

namespace Shapes;

[DurableWorkflow]
public partial class Lookup
{
    [WorkflowRun]
    public async Task<int> RunAsync(string key) => (await Find(key)).Count;

    [Step]
    public Task<List<Entry>> Find(string key) => Task.FromResult(new List<Entry>());
}
