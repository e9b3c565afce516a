// A project whose source-generated serializer context includes fields: tuples and public fields survive the journal
// there, so they are not reported; an interface still is.
using System.Text.Json.Serialization;
using System.Threading.Tasks;
using Durably;

namespace Shapes;

public sealed class Point
{
    public int X;
    public int Y;
}

public interface IShape
{
}

[JsonSourceGenerationOptions(IncludeFields = true)]
[JsonSerializable(typeof(Point))]
internal sealed partial class JournalJson : JsonSerializerContext
{
}

[DurableWorkflow]
public partial class Plot
{
    [WorkflowRun]
    public async Task<int> RunAsync(int x) => (await Price(x)).Price + await Draw(new Point { X = x, Y = 2 });

    [Step]
    public Task<(int Price, string Currency)> Price(int x) => Task.FromResult((x, "EUR"));

    [Step]
    public Task<int> Draw(Point point) => Task.FromResult(point.X + point.Y);

    [Step]
    public Task<IShape?> Shape() => Task.FromResult<IShape?>(null);
}
