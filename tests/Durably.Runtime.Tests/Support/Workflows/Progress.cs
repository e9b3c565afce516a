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

/// <summary>
/// A run that publishes a status of <c>size</c> characters — over the limit, the call throws in the run method, which
/// reports it; -1 publishes one and clears it; -2 publishes one that cannot be serialised.
/// </summary>
[DurableWorkflow]
internal partial class OversizedStatus
{
    [WorkflowRun]
    public Task<string> RunAsync(int size)
    {
        try
        {
            switch (size)
            {
                case -1:
                    Workflow.SetStatus("about to be cleared");
                    Workflow.SetStatus<string?>(null);
                    break;
                case -2:
                    Workflow.SetStatus(new Func<int>(() => 1));
                    break;
                default:
                    Workflow.SetStatus(new string('x', size));
                    break;
            }

            return Task.FromResult("published");
        }
        catch (PayloadException refused)
        {
            return Task.FromResult(refused.Message);
        }
    }
}
