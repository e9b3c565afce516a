using Durably;
using Durably.Runtime;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

var services = new ServiceCollection();
services.AddDurably().AddWorkflow<Greeter>();
await using var provider = services.BuildServiceProvider();

var handle = await provider.GetRequiredService<GreeterClient>().StartAsync("world", "packaged-1");
await provider.GetRequiredService<DurableEngine>().ExecuteAsync(handle.WorkflowId);
Console.WriteLine(await handle.WaitForResultAsync());

await using (var host = await Durably.Testing.DurableTestHost.StartAsync(workflows => workflows.AddWorkflow<Greeter>()))
{
    Console.WriteLine("test host: " + await host.RunToCompletionAsync<GreeterClient, string>(client => client.StartAsync("kit", "packaged-2")));
}

// The dashboard from its package, mounted in a web app and read over HTTP.
var web = WebApplication.CreateSlimBuilder();
web.WebHost.UseUrls("http://127.0.0.1:0");
web.Services.AddDurably(o => o.UseInMemoryStore()).AddWorkflow<Greeter>();
web.Services.AddDurablyDashboard();
await using (var site = web.Build())
{
    site.MapDurablyDashboard("/durably");
    await site.StartAsync();
    using var http = new HttpClient();
    var page = await http.GetStringAsync(site.Urls.First() + "/durably");
    Console.WriteLine("dashboard: " + System.Text.RegularExpressions.Regex.Match(page, "<h1>(.*?)</h1>").Groups[1].Value);
    await site.StopAsync();
}

[DurableWorkflow]
public partial class Greeter
{
    [WorkflowRun]
    public async Task<string> RunAsync(string name) => await Greet(name);

    // Private on purpose: the generated invoker lives in the partial class, so private steps work.
    [Step]
    private Task<string> Greet(string name)
    {
        // Only set when the call went through the generated interceptor and the engine.
        var step = StepContext.Current ?? throw new InvalidOperationException("Greet was called directly: the step call was not intercepted.");
        return Task.FromResult($"hello {name} from step {step.StepId} with key {step.IdempotencyKey}");
    }
}
