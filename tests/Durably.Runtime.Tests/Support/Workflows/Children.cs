namespace Durably.Runtime.Tests.Support;

/// <summary>
/// One parcel's shipment: packs (a "held-…" parcel waits at the gate first; a "lost-after-held-…" one waits until a held
/// one is at the gate), then fails for a parcel named "lost-…".
/// </summary>
[DurableWorkflow]
internal partial class ParcelShipment(BodyLog log, Gate gate)
{
    [WorkflowRun]
    public async Task<string> RunAsync(string parcel)
    {
        await Pack(parcel);
        return parcel.StartsWith("lost", StringComparison.Ordinal) ? throw new InvalidOperationException($"parcel {parcel} was lost") : $"shipped {parcel}";
    }

    [Step]
    private async Task<string> Pack(string parcel)
    {
        log.Record();
        if (parcel.StartsWith("held", StringComparison.Ordinal))
        {
            await gate.PassAsync(CancellationToken.None);
        }
        else if (parcel.StartsWith("lost-after-held", StringComparison.Ordinal))
        {
            // Fails only once a held parcel's packing is under way (so its parent's failure finds that child running).
            await gate.Arrived;
        }

        return parcel;
    }
}

/// <summary>An order that ships each parcel through a child workflow, all at once, and reports what came back.</summary>
[DurableWorkflow]
internal partial class ChildParcelOrder
{
    [WorkflowRun]
    public async Task<string> RunAsync(string[] parcels)
    {
        try
        {
            var shipped = await Task.WhenAll(parcels.Select(p => Workflow.RunChildAsync(ParcelShipment.DurableDefinition, p)));
            return string.Join(",", shipped);
        }
        catch (ChildWorkflowFailedException failed)
        {
            return $"failed: {failed.ChildWorkflowId}: {failed.Message}";
        }
    }
}

/// <summary>An order whose shipment goes on even if the order is cancelled (the child is abandoned, not cancelled).</summary>
[DurableWorkflow]
internal partial class LetGoParcelOrder
{
    [WorkflowRun]
    public async Task<string> RunAsync(string parcel)
        => await Workflow.RunChildAsync(ParcelShipment.DurableDefinition, parcel, new ChildWorkflowOptions { OnParentCancel = ParentCancelPolicy.Abandon });
}

/// <summary>An order that ships through the shipment's generated client: its durable child form.</summary>
[DurableWorkflow]
internal partial class ClientParcelOrder(ParcelShipmentClient shipments)
{
    [WorkflowRun]
    public async Task<string> RunAsync(string parcel) => "via client: " + await shipments.RunAsChildAsync(parcel);
}

/// <summary>An order that starts a held shipment, then fails on a lost one without awaiting the first: it fails while the first still runs.</summary>
[DurableWorkflow]
internal partial class HalfShippedOrder
{
    [WorkflowRun]
    public async Task<string> RunAsync(string[] parcels)
    {
        var first = Workflow.RunChildAsync(ParcelShipment.DurableDefinition, parcels[0]);
        await Workflow.RunChildAsync(ParcelShipment.DurableDefinition, parcels[1]);
        return await first;
    }
}

/// <summary>A shipment whose packing is undone (unpacked) when it is rolled back.</summary>
[DurableWorkflow]
internal partial class UndoableShipment(BodyLog log)
{
    [WorkflowRun]
    public async Task<string> RunAsync(string parcel) => await Pack(parcel);

    [Step(Compensate = nameof(Unpack))]
    private Task<string> Pack(string parcel)
    {
        log.Record();
        return Task.FromResult("packed " + parcel);
    }

    private Task Unpack(string parcel)
    {
        log.Record();
        return Task.CompletedTask;
    }
}

/// <summary>
/// An order that ships two parcels through children (the second abandoned by policy), then fails to charge: under the
/// compensate rule its rollback undoes the first child, not the abandoned one.
/// </summary>
[DurableWorkflow(OnFailure = FailureRule.Compensate)]
internal partial class RolledBackOrder
{
    [WorkflowRun]
    public async Task<string> RunAsync(string order)
    {
        await Workflow.RunChildAsync(UndoableShipment.DurableDefinition, order + "-a");
        await Workflow.RunChildAsync(UndoableShipment.DurableDefinition, order + "-b", new ChildWorkflowOptions { OnParentCancel = ParentCancelPolicy.Abandon });
        await Charge(order);
        return "charged";
    }

    [Step]
    private Task Charge(string order) => throw new InvalidOperationException($"card declined for {order}");
}
