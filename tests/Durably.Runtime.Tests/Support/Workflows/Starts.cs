namespace Durably.Runtime.Tests.Support;

// Workflows for how a run's start is written: runs that end before their first step, and one that takes a step.

/// <summary>Sets a status, takes no step, and ends: its staged status is a write of its own before the end.</summary>
[DurableWorkflow]
internal partial class StatusNoSteps
{
    [WorkflowRun]
    public Task<string> RunAsync(string order)
    {
        Workflow.SetStatus(new { Stage = "checked", Order = order });
        return Task.FromResult(order + "-checked");
    }
}

/// <summary>Goes into a patched branch (a marker written at once), takes no step, and ends.</summary>
[DurableWorkflow]
internal partial class PatchedNoSteps
{
    [WorkflowRun]
    public Task<string> RunAsync(string order) => Task.FromResult(Workflow.Patched("fast-path") ? order + "-new" : order + "-old");
}

/// <summary>Fails before any step: the run ends failed, its error written with its start.</summary>
[DurableWorkflow]
internal partial class FailsAtOnce
{
    [WorkflowRun]
    public Task<string> RunAsync(string order) => throw new InvalidOperationException($"order '{order}' is refused before any step");
}

/// <summary>One step whose body is logged: a start whose id is taken must never reach it.</summary>
[DurableWorkflow]
internal partial class OneLoggedStep(BodyLog log)
{
    [WorkflowRun]
    public async Task<string> RunAsync(string order) => await Ship(order);

    [Step]
    private Task<string> Ship(string order)
    {
        log.Record();
        return Task.FromResult(order + "-shipped");
    }
}
