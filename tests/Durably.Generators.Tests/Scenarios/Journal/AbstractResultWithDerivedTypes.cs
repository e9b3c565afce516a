// An abstract result that lists its concrete types with [JsonDerivedType]: it round-trips, and replays.
using System.Text.Json.Serialization;
using System.Threading.Tasks;
using Durably;
using Durably.Generators.Tests;

namespace Shapes;

[JsonDerivedType(typeof(Circle), "circle")]
[JsonDerivedType(typeof(Rect), "rect")]
public abstract record Shape
{
    public abstract double Area();
}

public sealed record Circle(double Radius) : Shape
{
    public override double Area() => 3 * Radius * Radius;
}

public sealed record Rect(double Width, double Height) : Shape
{
    public override double Area() => Width * Height;
}

[DurableWorkflow]
public partial class Geometry
{
    [WorkflowRun]
    public async Task<double> RunAsync(double size) => (await Make(size, true)).Area() + (await Make(size, false)).Area();

    [Step]
    public Task<Shape> Make(double size, bool round) => Task.FromResult<Shape>(round ? new Circle(size) : new Rect(size, 2));
}

public static class Scenario
{
    public static async Task<string> RunAsync()
    {
        await using var host = ScenarioHost.Create(d => d.AddWorkflow<Geometry>());
        var handle = await host.Get<GeometryClient>().StartAsync(2, "run-1");
        await host.FinishAsync<Geometry>(handle.WorkflowId);
        return (await handle.WaitForResultAsync()).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
