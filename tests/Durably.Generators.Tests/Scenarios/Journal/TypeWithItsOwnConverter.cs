// A type with its own [JsonConverter] is trusted (and round-trips through the converter).
using System;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.Tasks;
using Durably;
using Durably.Generators.Tests;

namespace Shapes;

[JsonConverter(typeof(PairConverter))]
public sealed class Pair
{
    public Pair(int left, int right) => (Left, Right) = (left, right);

    public int Left;
    public int Right;
}

public sealed class PairConverter : JsonConverter<Pair>
{
    public override Pair Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var parts = reader.GetString()!.Split(':');
        return new Pair(int.Parse(parts[0]), int.Parse(parts[1]));
    }

    public override void Write(Utf8JsonWriter writer, Pair value, JsonSerializerOptions options) => writer.WriteStringValue(value.Left + ":" + value.Right);
}

[DurableWorkflow]
public partial class Pairing
{
    [WorkflowRun]
    public async Task<int> RunAsync(int seed)
    {
        var pair = await Make(seed);
        return pair.Left * 10 + pair.Right;
    }

    [Step]
    public Task<Pair> Make(int seed) => Task.FromResult(new Pair(seed, seed + 1));
}

public static class Scenario
{
    public static async Task<string> RunAsync()
    {
        await using var host = ScenarioHost.Create(d => d.AddWorkflow<Pairing>());
        var handle = await host.Get<PairingClient>().StartAsync(3, "run-1");
        await host.FinishAsync<Pairing>(handle.WorkflowId);
        return (await handle.WaitForResultAsync()).ToString();
    }
}
