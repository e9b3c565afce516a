using Durably.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime.Tests.Replay;

/// <summary>
/// <c>Workflow.NewGuid()</c> and <c>Workflow.Random</c> come from the run's id and a random seed recorded when the run
/// was created: two databases with the same workflow id (staging and production, two tenants) get different values,
/// and a replay the same ones.
/// </summary>
public abstract class DeterministicValuesTests : StoreTestBase
{
    [Fact]
    public async Task The_same_workflow_id_in_two_databases_gets_different_guids_and_randoms_and_each_replays_its_own()
    {
        using var otherStorage = CreateStorage();
        var outputs = new List<string>();
        foreach (var store in new[] { OpenStore(), otherStorage.Open() })
        {
            await using var host = new TestHost(store, d => d.AddWorkflow<FanOut>(), s => s.AddSingleton(new BodyLog()).AddSingleton<TimeProvider>(Clock));
            await host.Get<FanOutClient>().StartAsync([1, 2], "same-id");
            await host.Engine.ExecuteAsync("same-id").WaitAsync(Wait.Timeout);
            var output = await host.Client.WaitForResultAsync<string>("same-id");
            outputs.Add(output);

            var seed = (await store.GetRunAsync("same-id", default))!.Seed;
            Assert.Matches("^[0-9a-f]{32}$", seed);

            // A replay reads the recorded seed: the same GUID and random number, again.
            var copy = await TestHost.CloneAsRunningAsync(store, "same-id");
            await using var replayer = new TestHost(copy, d => d.AddWorkflow<FanOut>(), s => s.AddSingleton(new BodyLog()).AddSingleton<TimeProvider>(Clock), workerName: "replayer");
            await replayer.Engine.ExecuteAsync("same-id").WaitAsync(Wait.Timeout);
            Assert.Equal(output, await replayer.Client.WaitForResultAsync<string>("same-id"));
        }

        // "squares;pair;deliveries;guid;random;now": the guid and the random number differ between the two databases.
        var (first, second) = (outputs[0].Split(';'), outputs[1].Split(';'));
        Assert.NotEqual(first[3], second[3]);
        Assert.NotEqual(first[4], second[4]);
        Assert.Equal(first[..2], second[..2]);
    }
}

public sealed class InMemoryDeterministicValuesTests : DeterministicValuesTests
{
    private protected override TestStorage CreateStorage() => TestStorage.InMemory(Clock);
}

public sealed class SqliteDeterministicValuesTests : DeterministicValuesTests
{
    private protected override TestStorage CreateStorage() => TestStorage.Sqlite(Clock);
}

public sealed class PostgresDeterministicValuesTests(PostgresDatabase database) : DeterministicValuesTests, IClassFixture<PostgresDatabase>
{
    private protected override TestStorage CreateStorage() => TestStorage.Postgres(database, Clock, "seeds");
}
