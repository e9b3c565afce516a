// (h) Durable calls in the order of a HashSet or Dictionary: another process may iterate in another order.
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Durably;

namespace Shapes;

[DurableWorkflow]
public partial class Wrong
{
    [WorkflowRun]
    public async Task RunAsync(List<string> tags)
    {
        var unique = new HashSet<string>(tags);
        foreach (var tag in unique)
        {
            await Index(tag);
        }

        var counts = tags.GroupBy(t => t).ToDictionary(g => g.Key, g => g.Count());
        await Task.WhenAll(counts.Select(p => Index(p.Key)));
        foreach (var key in counts.Keys)
        {
            await Index(key);
        }
    }

    [Step]
    public Task Index(string tag) => Task.CompletedTask;
}

[DurableWorkflow]
public partial class Right
{
    [WorkflowRun]
    public async Task RunAsync(List<string> tags)
    {
        var unique = new HashSet<string>(tags);
        foreach (var tag in unique.Order())
        {
            await Index(tag);
        }

        var lengths = unique.Select(t => t.Length).ToList();
        foreach (var tag in tags.Distinct())
        {
            await Index(tag);
        }
    }

    [Step]
    public Task Index(string tag) => Task.CompletedTask;
}
