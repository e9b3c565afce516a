// (d) Mutable static state read in the run method.
using System.Threading.Tasks;
using Durably;

namespace Shapes;

public static class FeatureFlags
{
    public static bool FastShipping;

    public static int Limit { get; set; } = 3;

    public const int Max = 10;

    public static readonly string Region = "eu";
}

[DurableWorkflow]
public partial class Wrong
{
    [WorkflowRun]
    public async Task<string> RunAsync(string id) => FeatureFlags.FastShipping || FeatureFlags.Limit > 2 ? await Ship(id) : id;

    [Step]
    public Task<string> Ship(string id) => Task.FromResult(id);
}

[DurableWorkflow]
public partial class Right
{
    [WorkflowRun]
    public async Task<string> RunAsync(string id) => await Flags() || FeatureFlags.Max > 2 ? await Ship(id + FeatureFlags.Region) : id;

    [Step]
    public Task<bool> Flags() => Task.FromResult(FeatureFlags.FastShipping);

    [Step]
    public Task<string> Ship(string id) => Task.FromResult(id);
}
