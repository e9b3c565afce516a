using Durably;

/// <summary>A parent that runs one child and returns what the child returned.</summary>
[DurableWorkflow]
internal partial class FamilyParent
{
    [WorkflowRun]
    public async Task<string> RunAsync(int number) => "parent got " + await Workflow.RunChildAsync(FamilyChild.DurableDefinition, number);
}

/// <summary>The child: one slow step — where a kill lands.</summary>
[DurableWorkflow]
internal partial class FamilyChild(BodyLog log)
{
    [WorkflowRun]
    public async Task<string> RunAsync(int number) => await Build(number);

    [Step]
    private async Task<string> Build(int number)
    {
        log.Write("start");
        await Task.Delay(Random.Shared.Next(200, 400));
        log.Write("end");
        return $"toy {number}";
    }
}
