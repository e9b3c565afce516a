using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Durably.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Runtime.Tests.Replay;

/// <summary>
/// The example of docs/idempotency-keys.md, against a real HTTP payment API on 127.0.0.1 that deduplicates by the
/// <c>Idempotency-Key</c> header: the first attempt's charge goes through but its answer is lost (503), the step is
/// retried with the same key, and the card is charged once.
/// </summary>
public sealed class IdempotencyKeyTests : StoreTestBase, IDisposable
{
    private readonly ConcurrentQueue<string?> _keys = new();
    private readonly ConcurrentDictionary<string, string> _charges = new();
    private readonly LocalHttpServer _api;

    public IdempotencyKeyTests() => _api = new LocalHttpServer(ChargeAsync);

    private protected override TestStorage CreateStorage() => TestStorage.InMemory(Clock);

    [Fact]
    public async Task A_retried_step_sends_the_same_idempotency_key_and_the_api_charges_once()
    {
        using var http = new HttpClient { BaseAddress = new Uri(_api.Url) };
        var host = Track(new TestHost(OpenStore(), d => d.AddWorkflow<HttpCheckout>(), s => s.AddSingleton<TimeProvider>(Clock).AddSingleton(http)));
        await host.Get<HttpCheckoutClient>().StartAsync(42.5m, "pay-1");

        var result = await host.Engine.ExecuteAsync("pay-1").WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(WorkflowStatus.Completed, result.Status);
        Assert.Equal(["pay-1/ChargeCard/0", "pay-1/ChargeCard/0"], _keys);
        var charge = Assert.Single(_charges);
        Assert.Equal(charge.Value, await host.Client.WaitForResultAsync<string>("pay-1"));
        Assert.Equal(2, (await host.Store.LoadAsync("pay-1", default))!.Journal.Single().Attempts);
    }

    public new void Dispose()
    {
        _api.Dispose();
        base.Dispose();
    }

    /// <summary>A payment API: a key seen before gets its first charge back; the very first request's answer is "lost".</summary>
    private async Task ChargeAsync(HttpListenerContext context)
    {
        var key = context.Request.Headers["Idempotency-Key"];
        _keys.Enqueue(key);
        if (key is null)
        {
            await LocalHttpServer.Respond(context, 400);
            return;
        }

        var first = !_charges.ContainsKey(key);
        var id = _charges.GetOrAdd(key, _ => "ch_" + _charges.Count);
        if (first)
        {
            await LocalHttpServer.Respond(context, 503);   // charged, but the answer never reaches the caller
            return;
        }

        context.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(context.Response.OutputStream, new { id, amount = 42.5m });
        context.Response.Close();
    }
}
