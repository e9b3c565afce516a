// A record (not a class) named like the client.
using System.Threading.Tasks;
using Durably;

namespace Shapes;

public sealed record TransferClient(string Iban);

[DurableWorkflow]
public partial class Transfer
{
    [WorkflowRun]
    public async Task<string> RunAsync(string iban) => await Send(iban);

    [Step]
    public Task<string> Send(string iban) => Task.FromResult(iban);
}
