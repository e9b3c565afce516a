// A signal payload with object values in a dictionary.
using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using Durably;

namespace Shapes;

public sealed record Form(string Name, Dictionary<string, object> Fields);

[DurableWorkflow]
public partial class Survey
{
    [WorkflowRun]
    public async Task<int> RunAsync() => (await WaitForForm(TimeSpan.FromDays(1))).Payload?.Fields.Count ?? 0;

    [Signal]
    private partial Task<SignalResult<Form>> WaitForForm(TimeSpan timeout);
}
