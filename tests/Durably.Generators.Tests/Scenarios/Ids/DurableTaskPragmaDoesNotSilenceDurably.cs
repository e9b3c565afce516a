// A project that also uses Microsoft.DurableTask.Analyzers silences its DURABLE0001 and DURABLE0004: Durably's rules
// of the same numbers still fire, and silencing them takes their own ids.
using System.Threading;
using System.Threading.Tasks;
using Durably;

namespace Shapes;

#pragma warning disable DURABLE0001, DURABLE0004 // DurableTask's rules, not Durably's
[DurableWorkflow]
public class NotPartial
{
    [WorkflowRun]
    public Task RunAsync() => Task.CompletedTask;
}

[DurableWorkflow]
public partial class OnlyToken
{
    [WorkflowRun]
    public Task RunAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
#pragma warning restore DURABLE0001, DURABLE0004

#pragma warning disable DURABLY0001 // Durably's own id silences Durably's rule
[DurableWorkflow]
public class AlsoNotPartial
{
    [WorkflowRun]
    public Task RunAsync() => Task.CompletedTask;
}
#pragma warning restore DURABLY0001
