// Step types from another namespace, a nested public type, an alias and a generic type: all fully qualified in generated code.
using System.Collections.Generic;
using System.Threading.Tasks;
using Durably;
using Durably.Generators.Tests;
using Money = Finance.Amounts.Money;

namespace Finance.Amounts
{
    public sealed record Money(decimal Value, string Currency);

    public static class Rates
    {
        public sealed record Rate(string Pair, decimal Value);
    }
}

namespace Shapes
{
    [DurableWorkflow]
    public partial class Convert
    {
        [WorkflowRun]
        public async Task<Money> RunAsync(Money money) => await Apply(money, new Dictionary<string, Finance.Amounts.Rates.Rate> { ["EURUSD"] = new("EURUSD", 2m) });

        [Step]
        public Task<Money> Apply(Money money, Dictionary<string, Finance.Amounts.Rates.Rate> rates)
            => Task.FromResult(new Money(money.Value * rates["EURUSD"].Value, "USD"));
    }

    public static class Scenario
    {
        public static async Task<string> RunAsync()
        {
            await using var host = ScenarioHost.Create(d => d.AddWorkflow<Convert>());
            var handle = await host.Get<ConvertClient>().StartAsync(new Money(5m, "EUR"), "run-1");
            await host.FinishAsync<Convert>(handle.WorkflowId);
            return (await handle.WaitForResultAsync()).ToString();
        }
    }
}
