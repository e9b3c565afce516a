// A get-only auto-property with no constructor parameter: written, then left at default when read back.
using System.Threading.Tasks;
using Durably;

namespace Shapes;

public sealed class Receipt
{
    public Receipt()
    {
    }

    public Receipt(string number) => Number = number;

    public string Number { get; } = "";
}

[DurableWorkflow]
public partial class Till
{
    [WorkflowRun]
    public async Task<string> RunAsync(string id) => (await Print(id)).Number;

    [Step]
    public Task<Receipt> Print(string id) => Task.FromResult(new Receipt("r-" + id));
}
