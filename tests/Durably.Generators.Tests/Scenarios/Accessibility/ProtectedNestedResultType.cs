// A protected nested type as a step result.
using System.Threading.Tasks;
using Durably;

namespace Shapes;

[DurableWorkflow]
public partial class Rating
{
    [WorkflowRun]
    public async Task<int> RunAsync(int score) => (await Rate(score)).Count;

    [Step]
    protected Task<Stars> Rate(int score) => Task.FromResult(new Stars(score / 20));

    protected internal sealed record Hidden(int X);

    protected sealed record Stars(int Count);
}
