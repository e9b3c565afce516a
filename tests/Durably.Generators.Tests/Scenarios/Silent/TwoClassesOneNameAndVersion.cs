// Two workflow classes that both claim workflow 'Invoice' version 1 (same class name in two namespaces).
using System.Threading.Tasks;
using Durably;

namespace Billing.Eu
{
    [DurableWorkflow]
    public partial class Invoice
    {
        [WorkflowRun]
        public async Task<int> RunAsync(int amount) => await Bill(amount);

        [Step]
        public Task<int> Bill(int amount) => Task.FromResult(amount);
    }
}

namespace Billing.Us
{
    [DurableWorkflow]
    public partial class Invoice
    {
        [WorkflowRun]
        public async Task<int> RunAsync(int amount) => await Bill(amount);

        [Step]
        public Task<int> Bill(int amount) => Task.FromResult(amount);
    }
}
