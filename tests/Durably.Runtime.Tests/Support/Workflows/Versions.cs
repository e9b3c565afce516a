using System.Collections.Concurrent;

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
