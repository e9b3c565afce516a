namespace Durably.Testing.Tests;

/// <summary>Waiting in tests for a run to reach a point, by what the host says of it.</summary>
internal static class Runs
{
    /// <summary>Waits, up to 10 s of real time, until run <paramref name="workflowId"/> waits for signal <paramref name="signal"/>.</summary>
    public static async Task WaitForSignalWaitAsync(DurableTestHost host, string workflowId, string signal)
    {
        for (var looks = 0; !(await host.DescribeRunAsync(workflowId)).Contains($"Signal '{signal}' InProgress", StringComparison.Ordinal); looks++)
        {
            Assert.True(looks < 500, await host.DescribeRunAsync(workflowId));
            await Task.Delay(20);
        }
    }
}
