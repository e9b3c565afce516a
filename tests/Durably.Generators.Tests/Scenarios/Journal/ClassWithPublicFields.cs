// A class with public fields as a step argument: System.Text.Json writes properties only.
using System.Threading.Tasks;
using Durably;

namespace Shapes;

public sealed class Point
{
    public int X;
    public int Y;
}

[DurableWorkflow]
public partial class Plot
{
    [WorkflowRun]
    public async Task<int> RunAsync(int x) => await Draw(new Point { X = x, Y = 2 });

    [Step]
    public Task<int> Draw(Point point) => Task.FromResult(point.X + point.Y);
}
