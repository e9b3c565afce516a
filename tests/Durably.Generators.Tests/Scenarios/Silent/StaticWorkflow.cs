// A static class marked as a workflow.
using System.Threading.Tasks;
using Durably;

namespace Shapes;

[DurableWorkflow]
public static partial class Jobs
{
    [WorkflowRun]
    public static Task RunAsync() => Task.CompletedTask;
}
