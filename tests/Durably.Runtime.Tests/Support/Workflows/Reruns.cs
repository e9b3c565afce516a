namespace Durably.Runtime.Tests.Support;

/// <summary>The fix an operator deploys before rerunning: until it is in, shipping fails.</summary>
internal sealed class ShippingFix
{
    public volatile bool Deployed;
}

/// <summary>Reserve, charge, pack two parcels at once (the first takes longer), then ship — which has a bug until fixed.</summary>
[DurableWorkflow]
internal partial class RerunOrder(BodyLog log, ShippingFix fix)
{
    [WorkflowRun]
    public async Task<string> RunAsync(string order)
    {
        var reservation = await Reserve(order);
        await Charge(order);
        var packed = await Task.WhenAll(Pack(order + "-a"), Pack(order + "-b"));
        return await Ship($"{reservation},{string.Join(",", packed)}");
    }

    [Step]
    private Task<string> Reserve(string order)
    {
        log.Record();
        return Task.FromResult("r-" + order);
    }

    [Step]
    private Task Charge(string order)
    {
        log.Record();
        return Task.CompletedTask;
    }

    [Step]
    private async Task<string> Pack(string parcel)
    {
        log.Record();
        await Task.Delay(parcel.EndsWith("-a", StringComparison.Ordinal) ? 100 : 1);
        return parcel;
    }

    [Step]
    private Task<string> Ship(string what)
    {
        log.Record();
        return fix.Deployed
            ? Task.FromResult($"shipped {what} with key {StepContext.Current!.IdempotencyKey}")
            : throw new InvalidOperationException("the label printer rejected the address");
    }
}
