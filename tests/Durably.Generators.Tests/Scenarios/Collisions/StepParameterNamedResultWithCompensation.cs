// A compensated step whose parameters are named like the compensation's own (result, input, cancellationToken).
using System;
using System.Threading;
using System.Threading.Tasks;
using Durably;
using Durably.Generators.Tests;

namespace Shapes;

[DurableWorkflow(OnFailure = FailureRule.Compensate)]
public partial class Booking
{
    public static string Log = "";

    [WorkflowRun]
    public async Task<string> RunAsync(string seat)
    {
        await Hold(seat, "r", 1);
        await Fail();
        return "unreachable";
    }

    [Step(Compensate = nameof(Release))]
    public Task<string> Hold(string seat, string result, int input) => Task.FromResult("held " + seat + result + input);

    public Task Release(string seat, string result, int input, CancellationToken cancellationToken)
    {
        Log += "released " + seat + result + input;
        return Task.CompletedTask;
    }

    [Step(MaxAttempts = 1)]
    public Task Fail() => throw new InvalidOperationException("no payment");
}

public static class Scenario
{
    public static async Task<string> RunAsync()
    {
        await using var host = ScenarioHost.Create(d => d.AddWorkflow<Booking>());
        var handle = await host.Get<BookingClient>().StartAsync("12A", "run-1");
        try
        {
            await host.FinishAsync<Booking>(handle.WorkflowId);
            await handle.WaitForResultAsync();
        }
        catch (Exception ex)
        {
            return ex.GetType().Name + "; " + Booking.Log;
        }

        return "no failure";
    }
}
