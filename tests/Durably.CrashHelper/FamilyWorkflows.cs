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

/// <summary>A parent that runs one child, then fails: under the compensate rule its rollback rolls the child back.</summary>
[DurableWorkflow(OnFailure = FailureRule.Compensate)]
internal partial class UndoneFamilyParent
{
    [WorkflowRun]
    public async Task<string> RunAsync(int number)
    {
        await Workflow.RunChildAsync(UndoneFamilyChild.DurableDefinition, number);
        throw new InvalidOperationException($"family {number} called off");
    }
}

/// <summary>The child: a quick step whose compensation is slow — where a kill lands.</summary>
[DurableWorkflow]
internal partial class UndoneFamilyChild(BodyLog log)
{
    [WorkflowRun]
    public async Task<string> RunAsync(int number) => await Build(number);

    [Step(Compensate = nameof(Unbuild))]
    private Task<string> Build(int number) => Task.FromResult($"toy {number}");

    private async Task Unbuild(int number)
    {
        log.Write("start");
        await Task.Delay(Random.Shared.Next(200, 400));
        log.Write("end");
    }
}
