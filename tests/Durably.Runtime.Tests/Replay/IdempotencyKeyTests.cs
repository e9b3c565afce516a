using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
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
    private readonly HttpListener _api = new();
    private readonly ConcurrentQueue<string?> _keys = new();
    private readonly ConcurrentDictionary<string, string> _charges = new();
    private readonly string _url;

    public IdempotencyKeyTests()
    {
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            _url = $"http://127.0.0.1:{((IPEndPoint)probe.LocalEndpoint).Port}/";
        }

        _api.Prefixes.Add(_url);
        _api.Start();
        _ = ServeAsync();
    }

    private protected override TestStorage CreateStorage() => TestStorage.InMemory(Clock);

    [Fact]
    public async Task A_retried_step_sends_the_same_idempotency_key_and_the_api_charges_once()
    {
        using var http = new HttpClient { BaseAddress = new Uri(_url) };
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
        _api.Close();
        base.Dispose();
    }

    /// <summary>A payment API: a key seen before gets its first charge back; the very first request's answer is "lost".</summary>
    private async Task ServeAsync()
    {
        while (_api.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _api.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            var key = context.Request.Headers["Idempotency-Key"];
            _keys.Enqueue(key);
            if (key is null)
            {
                context.Response.StatusCode = 400;
                context.Response.Close();
                continue;
            }

            var first = !_charges.ContainsKey(key);
            var id = _charges.GetOrAdd(key, _ => "ch_" + _charges.Count);
            if (first)
            {
                context.Response.StatusCode = 503;   // charged, but the answer never reaches the caller
                context.Response.Close();
                continue;
            }

            context.Response.ContentType = "application/json";
            await JsonSerializer.SerializeAsync(context.Response.OutputStream, new { id, amount = 42.5m });
            context.Response.Close();
        }
    }
}
