// (b) List.ForEach(async …): the async lambda is an Action<T>, nothing awaits it, and no step body ran.
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Durably;

namespace Shapes;

[DurableWorkflow]
public partial class Wrong
{
    [WorkflowRun]
    public async Task RunAsync(List<string> emails)
    {
        emails.ForEach(async email => await Send(email));
        await Task.CompletedTask;
    }

    [Step]
    public Task Send(string email) => Task.CompletedTask;
}

[DurableWorkflow]
public partial class Right
{
    [WorkflowRun]
    public async Task RunAsync(List<string> emails)
    {
        foreach (var email in emails)
        {
            await Send(email);
        }

        await Task.WhenAll(emails.Select(async email => await Send(email)));
    }

    [Step]
    public Task Send(string email) => Task.CompletedTask;
}
