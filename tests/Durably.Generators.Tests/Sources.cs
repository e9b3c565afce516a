namespace Durably.Generators.Tests;

/// <summary>Workflow sources shared by the generator tests.</summary>
internal static class Sources
{
    public const string OrderFulfillment = """
        using System.Linq;
        using System.Threading;
        using System.Threading.Tasks;
        using Durably;

        namespace Shop;

        public sealed record Order(string Id, int[] Parcels);

        public sealed record Hold(string Id);

        [DurableWorkflow(Version = 2)]
        public partial class OrderFulfillment
        {
            [WorkflowRun]
            public async Task<string> RunAsync(Order order)
            {
                var hold = await Reserve(order);
                await Notify();
                var labels = await Task.WhenAll(order.Parcels.Select(p => Ship(p, hold)));
                var total = await this.Count(labels.Length);
                await Audit(order.Id);
                return hold.Id + total;
            }

            [Step]
            private Task<Hold> Reserve(Order order) => Task.FromResult(new Hold("hold-" + order.Id));

            [Step]
            private Task Notify() => Task.CompletedTask;

            [Step(Id = "ship-parcel")]
            internal async Task<string> Ship(int parcel, Hold hold, CancellationToken cancellationToken = default)
            {
                await Task.Yield();
                return hold.Id + "/" + parcel;
            }

            [Step]
            private ValueTask<int> Count(int count) => new(count);

            [Step]
            private ValueTask Audit(string @event) => default;
        }
        """;

    public const string NoInputWorkflow = """
        using System.Threading.Tasks;
        using Durably;

        [DurableWorkflow(Name = "nightly-report")]
        internal partial class NightlyReport
        {
            [WorkflowRun]
            public async Task RunAsync() => await Collect();

            [Step]
            private Task Collect() => Task.CompletedTask;
        }
        """;

    public const string Approvals = """
        using System;
        using System.Threading.Tasks;
        using Durably;

        namespace Shop.Approvals;

        public sealed record Approval(string By, bool Approved);

        [DurableWorkflow]
        public partial class ExpenseApproval
        {
            [WorkflowRun]
            public async Task<string> RunAsync(decimal amount)
            {
                var decision = await WaitForApprovalAsync(TimeSpan.FromDays(2));
                var note = await WaitForNoteAsync(TimeSpan.FromHours(1));
                return decision.IsReceived ? $"{decision.Payload!.By}: {note.Payload}" : "timed out";
            }

            [Signal(Name = "approve")]
            private partial Task<SignalResult<Approval>> WaitForApprovalAsync(TimeSpan timeout);

            [Signal]
            internal partial Task<SignalResult<string>> WaitForNoteAsync(TimeSpan within);
        }
        """;

    public const string Payments = """
        using System;
        using System.IO;
        using System.Net.Http;
        using System.Threading;
        using System.Threading.Tasks;
        using Durably;

        namespace Shop.Payments;

        [DurableWorkflow(OnFailure = FailureRule.Compensate)]
        public partial class Checkout
        {
            [WorkflowRun]
            public async Task<string> RunAsync(decimal amount)
            {
                var receipt = await Charge(amount);
                await Notify(receipt);
                await Archive(receipt);
                return receipt;
            }

            [Step(MaxAttempts = 5, InitialDelay = "2s", BackoffCoefficient = 1.5, MaxDelay = "1m", Jitter = 0.25,
                RetryOn = [typeof(HttpRequestException), typeof(TimeoutException)], DoNotRetryOn = [typeof(InvalidOperationException)],
                Timeout = "30s", CircuitBreaker = "payments", Compensate = nameof(Refund))]
            private Task<string> Charge(decimal amount, CancellationToken cancellationToken = default) => Task.FromResult("r-1");

            private Task Refund(decimal amount, CancellationToken cancellationToken) => Task.CompletedTask;

            [Step(Timeout = "00:00:10", CircuitBreaker = "mail")]
            private Task Notify(string receipt, CancellationToken cancellationToken = default) => Task.CompletedTask;

            [Step(InitialDelay = "00:00:00.500", MaxDelay = "1.5h", Compensate = nameof(Unarchive))]
            private Task Archive(string receipt) => Task.CompletedTask;

            private static ValueTask Unarchive(string receipt) => ValueTask.CompletedTask;

            [Step(Transactional = true)]
            private Task<int> Ledger(string receipt) => Task.FromResult(1);

            [Step(Transactional = false)]
            private Task<int> Tally(string receipt) => Task.FromResult(2);
        }
        """;

    public const string Unrelated = """
        namespace Shop;

        public static class Pricing
        {
            public static decimal WithTax(decimal amount) => amount * 1.2m;
        }
        """;
}
