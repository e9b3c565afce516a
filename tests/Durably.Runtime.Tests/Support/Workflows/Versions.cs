using System.Collections.Concurrent;

// A workflow version as two or three classes on purpose: the tests replay one class's journal against another, the
// way a code change meets runs in flight. Never registered in one host together.
#pragma warning disable DURABLY0046

namespace Durably.Runtime.Tests.Support;

// One workflow, "Parcel", in three versions side by side: what a team keeps while old runs drain.

/// <summary>Which version's steps ran, for which run.</summary>
internal sealed class VersionLog
{
    private readonly ConcurrentQueue<string> _calls = new();

    public IReadOnlyList<string> Calls => [.. _calls];

    public Task<string> Record(string call)
    {
        _calls.Enqueue($"{StepContext.Current!.WorkflowId}:{call}");
        return Task.FromResult(call);
    }
}

/// <summary>Version 1: labels the parcel.</summary>
[DurableWorkflow(Name = "Parcel", Version = 1)]
internal partial class ParcelV1(VersionLog log)
{
    [WorkflowRun]
    public async Task<string> RunAsync(string to) => await Label(to);

    [Step]
    private Task<string> Label(string to) => log.Record("v1 label " + to);
}

/// <summary>Version 2: weighs the parcel first — a step inserted before the old one, which v1's runs never had.</summary>
[DurableWorkflow(Name = "Parcel", Version = 2)]
internal partial class ParcelV2(VersionLog log)
{
    [WorkflowRun]
    public async Task<string> RunAsync(string to)
    {
        await Weigh(to);
        return await Label(to);
    }

    [Step]
    private Task<string> Weigh(string to) => log.Record("v2 weigh " + to);

    [Step]
    private Task<string> Label(string to) => log.Record("v2 label " + to);
}

/// <summary>What version 3 takes: a parcel with a weight, not a plain address.</summary>
internal sealed record ParcelOrder(string To, int Grams);

/// <summary>Version 3: another input type, so older clients cannot start it.</summary>
[DurableWorkflow(Name = "Parcel", Version = 3)]
internal partial class ParcelV3(VersionLog log)
{
    [WorkflowRun]
    public async Task<string> RunAsync(ParcelOrder order) => await Label(order.To);

    [Step]
    private Task<string> Label(string to) => log.Record("v3 label " + to);
}

/// <summary>What the Shipping workflows' steps did, and where a test holds one at its gate.</summary>
internal sealed class PatchScript
{
    private readonly ConcurrentQueue<string> _calls = new();

    public IReadOnlyList<string> Calls => [.. _calls];

    /// <summary>The step whose body waits at <see cref="Gate"/>, if any.</summary>
    public string? GateStep { get; set; }

    /// <summary>The gate; a gate opens once, so each stop a test makes needs a fresh one.</summary>
    public Gate Gate { get; set; } = new();

    public async Task<string> Do(string step, CancellationToken cancellationToken)
    {
        _calls.Enqueue($"{StepContext.Current!.WorkflowId}:{step}");
        if (step == GateStep)
        {
            await Gate.PassAsync(cancellationToken);
        }

        return step;
    }
}

/// <summary>"Shipping" as first deployed: pack, hold, ship.</summary>
[DurableWorkflow(Name = "Shipping")]
internal partial class ShippingOld(PatchScript script)
{
    [WorkflowRun]
    public async Task<string> RunAsync(string parcel)
    {
        await Pack(parcel);
        await Hold(parcel);
        await Ship(parcel);
        return "old";
    }

    [Step]
    private Task<string> Pack(string parcel, CancellationToken cancellationToken = default) => script.Do("Pack", cancellationToken);

    [Step]
    private Task<string> Hold(string parcel, CancellationToken cancellationToken = default) => script.Do("Hold", cancellationToken);

    [Step]
    private Task<string> Ship(string parcel, CancellationToken cancellationToken = default) => script.Do("Ship", cancellationToken);
}

/// <summary>The same version with insurance added behind a patch: runs that passed that point keep the old path.</summary>
[DurableWorkflow(Name = "Shipping")]
internal partial class ShippingPatched(PatchScript script)
{
    [WorkflowRun]
    public async Task<string> RunAsync(string parcel)
    {
        await Pack(parcel);
        var insured = false;
        if (Workflow.Patched("insure"))
        {
            await Insure(parcel);
            insured = true;
        }

        await Hold(parcel);
        await Ship(parcel);
        return insured ? "new" : "old";
    }

    [Step]
    private Task<string> Pack(string parcel, CancellationToken cancellationToken = default) => script.Do("Pack", cancellationToken);

    [Step]
    private Task<string> Insure(string parcel, CancellationToken cancellationToken = default) => script.Do("Insure", cancellationToken);

    [Step]
    private Task<string> Hold(string parcel, CancellationToken cancellationToken = default) => script.Do("Hold", cancellationToken);

    [Step]
    private Task<string> Ship(string parcel, CancellationToken cancellationToken = default) => script.Do("Ship", cancellationToken);
}

/// <summary>Later still: the old path is gone, the patch deprecated.</summary>
[DurableWorkflow(Name = "Shipping")]
internal partial class ShippingDeprecated(PatchScript script)
{
    [WorkflowRun]
    public async Task<string> RunAsync(string parcel)
    {
        await Pack(parcel);
        Workflow.DeprecatePatch("insure");
        await Insure(parcel);
        await Hold(parcel);
        await Ship(parcel);
        return "new";
    }

    [Step]
    private Task<string> Pack(string parcel, CancellationToken cancellationToken = default) => script.Do("Pack", cancellationToken);

    [Step]
    private Task<string> Insure(string parcel, CancellationToken cancellationToken = default) => script.Do("Insure", cancellationToken);

    [Step]
    private Task<string> Hold(string parcel, CancellationToken cancellationToken = default) => script.Do("Hold", cancellationToken);

    [Step]
    private Task<string> Ship(string parcel, CancellationToken cancellationToken = default) => script.Do("Ship", cancellationToken);
}

/// <summary>Version 2 of "Parcel" changed carelessly: it labels before it weighs, so its recorded runs no longer replay.</summary>
[DurableWorkflow(Name = "Parcel", Version = 2)]
internal partial class ParcelV2Reordered(VersionLog log)
{
    [WorkflowRun]
    public async Task<string> RunAsync(string to)
    {
        var label = await Label(to);
        await Weigh(to);
        return label;
    }

    [Step]
    private Task<string> Weigh(string to) => log.Record("v2 weigh " + to);

    [Step]
    private Task<string> Label(string to) => log.Record("v2 label " + to);
}
