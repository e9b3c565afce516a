using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Durably.Load;

/// <summary>
/// The dashboard's pages served end to end — every query a page makes plus rendering and HTTP on loopback — over the
/// store <see cref="OperatorQueries"/> filled. No worker runs (the store's runs belong to no registered workflow).
/// Each figure is the median of 21 requests, in ms.
/// </summary>
internal static class DashboardPages
{
    public static async Task<List<(string Figure, double Value)>> RunAsync(BenchTarget target)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddDurably(target.Configure);
        builder.Services.AddDurablyDashboard();
        // Read-only pages over a filled store: the worker would only poll.
        foreach (var worker in builder.Services.Where(d => d.ServiceType == typeof(IHostedService)).ToList())
        {
            builder.Services.Remove(worker);
        }

        await using var app = builder.Build();
        app.MapDurablyDashboard("/durably");
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        var figures = new List<(string, double)>();
        foreach (var (name, path) in new[]
        {
            ("overview page", "/durably"),
            ("runs page", "/durably/runs"),
            ("runs page, workflow + failed", "/durably/runs?workflow=Workflow3&status=Failed"),
            ("runs page, last day", $"/durably/runs?from={DateTime.UtcNow.AddDays(-1):yyyy-MM-ddTHH:mm}"),
            ("run page", "/durably/run?id=ops-4242"),
            ("dead letters page", "/durably/dead-letters"),
            ("workers page", "/durably/workers"),
            ("versions page", "/durably/versions"),
        })
        {
            figures.Add(($"dashboard: {name} (ms)", await OperatorQueries.MedianAsync(() => GetAsync(http, path))));
        }

        await app.StopAsync();
        return figures;
    }

    private static async Task<byte[]> GetAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsByteArrayAsync();
    }
}
