namespace Durably.Runtime.Tests.Support;

/// <summary>What <see cref="StatusImport"/> publishes about itself.</summary>
internal sealed record ImportStatus(string Stage, int Rows);

/// <summary>
/// An import that publishes its stage (<see cref="Workflow.SetStatus{TStatus}"/>) and whose load step reports its
/// progress row by row, in a tight loop, before it waits at the gate. Between its stages it waits for signals, so a
/// test can stop and resume it there.
/// </summary>
[DurableWorkflow]
internal partial class StatusImport(BodyLog log, Gate gate)
{
    [WorkflowRun]
    public async Task<string> RunAsync(int rows)
    {
        Workflow.SetStatus(new ImportStatus("reading", 0));
        var read = await Read(rows);
        Workflow.SetStatus(new ImportStatus("read", read));
        await Workflow.WaitForSignalAsync<string>("go", Timeout.InfiniteTimeSpan);
        var loaded = await Load(read);
        await Workflow.WaitForSignalAsync<string>("finish", Timeout.InfiniteTimeSpan);
        Workflow.SetStatus(new ImportStatus("done", loaded));
        return $"imported {loaded}";
    }

    [Step]
    private Task<int> Read(int rows)
    {
        log.Record();
        return Task.FromResult(rows);
    }

    [Step]
    private async Task<int> Load(int rows)
    {
        log.Record();
        var step = StepContext.Current!;
        for (var row = 1; row <= rows; row++)
        {
            step.ReportProgress((double)row / rows, $"row {row} of {rows}");
        }

        await gate.PassAsync(step.CancellationToken);
        return rows;
    }
}

/// <summary>A run whose status is over the size limit: the call throws in the run method, which reports it.</summary>
[DurableWorkflow]
internal partial class OversizedStatus
{
    [WorkflowRun]
    public Task<string> RunAsync(int size)
    {
        try
        {
            Workflow.SetStatus(new string('x', size));
            return Task.FromResult("published");
        }
        catch (PayloadException refused)
        {
            return Task.FromResult(refused.Message);
        }
    }
}
