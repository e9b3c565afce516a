// Steps declared in a base class that is not a workflow, called by the derived workflow.
using System.Threading.Tasks;
using Durably;

namespace Shapes;

public abstract class PaymentSteps
{
    [Step]
    protected Task<string> Charge(decimal amount) => Task.FromResult("charged " + amount);
}

[DurableWorkflow]
public partial class Checkout : PaymentSteps
{
    [WorkflowRun]
    public async Task<string> RunAsync(decimal amount) => await Charge(amount) + await Confirm();

    [Step]
    private Task<string> Confirm() => Task.FromResult(" and confirmed");
}
