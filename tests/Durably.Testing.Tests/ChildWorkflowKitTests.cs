namespace Durably.Testing.Tests;

/// <summary>Child workflows in the test kit: the children run in the host's engine, their day-long sleeps are skipped, and the parent gets their results.</summary>
public sealed class ChildWorkflowKitTests
{
    [Fact]
    public async Task A_parent_gets_its_childrens_results_with_their_long_sleeps_skipped()
    {
        await using var host = await DurableTestHost.StartAsync(w => w.AddWorkflow<ChildParent>().AddWorkflow<SlowChild>());
        var started = host.Time.GetUtcNow();

        var result = await host.RunToCompletionAsync<ChildParentClient, string>(client => client.StartAsync("x", "family-1"));

        Assert.Equal("[xa],[xb],[xc]", result);
        Assert.True(host.Time.GetUtcNow() - started >= TimeSpan.FromDays(1), $"virtual time moved only {host.Time.GetUtcNow() - started}");
        var details = (await host.Client.GetRunDetailsAsync("family-1"))!;
        Assert.Equal(["family-1/SlowChild/0", "family-1/SlowChild/1", "family-1/SlowChild/2"], details.ChildWorkflowIds);
    }
}
