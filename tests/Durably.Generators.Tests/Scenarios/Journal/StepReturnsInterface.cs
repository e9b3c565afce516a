// A step returning an interface: System.Text.Json cannot create one when the journal is read back.
using System.Threading.Tasks;
using Durably;

namespace Shapes;

public interface IShape
{
    double Area { get; }
}

public sealed record Square(double Side) : IShape
{
    public double Area => Side * Side;
}

[DurableWorkflow]
public partial class Geometry
{
    [WorkflowRun]
    public async Task<double> RunAsync(double side) => (await Make(side)).Area;

    [Step]
    public Task<IShape> Make(double side) => Task.FromResult<IShape>(new Square(side));
}
