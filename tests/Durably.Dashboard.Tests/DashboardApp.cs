using System.Net;
using System.Security.Claims;
using System.Text.RegularExpressions;
using Durably.Runtime;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Durably.Dashboard.Tests;

/// <summary>
/// A real app on Kestrel at 127.0.0.1: Durably on a SQLite file with a live worker, cookie sign-in, an "ops" policy,
/// the dashboard at /durably and a read-only one at /durably-view, both behind the policy. <c>/login?user=…&amp;role=…</c>
/// signs a browser in.
/// </summary>
public sealed partial class DashboardApp : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _directory;

    private DashboardApp(WebApplication app, string directory, Uri address)
    {
        _app = app;
        _directory = directory;
        Address = address;
    }

    public Uri Address { get; }

    public Carrier Carrier => _app.Services.GetRequiredService<Carrier>();

    public IDurableClient Client => _app.Services.GetRequiredService<IDurableClient>();

    public DurableOperator Operator => _app.Services.GetRequiredService<DurableOperator>();

    public ShipmentClient Shipments => _app.Services.GetRequiredService<ShipmentClient>();

    public ApprovalClient Approvals => _app.Services.GetRequiredService<ApprovalClient>();

    public ImportClient Imports => _app.Services.GetRequiredService<ImportClient>();

    public ImportGate ImportGate => _app.Services.GetRequiredService<ImportGate>();

    public static async Task<DashboardApp> StartAsync(Action<DurablyDashboardOptions>? configure = null)
    {
        var directory = Directory.CreateTempSubdirectory("durably-dashboard-").FullName;
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<Carrier>();
        builder.Services.AddSingleton<ImportGate>();
        builder.Services.AddDurably(o =>
        {
            o.UseSqlite(Path.Combine(directory, "durably.db"));
            o.PollInterval = TimeSpan.FromMilliseconds(50);
        }).AddWorkflow<Shipment>().AddWorkflow<Approval>().AddWorkflow<Import>();
        builder.Services.AddDurablyDashboard();
        builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme).AddCookie(o =>
        {
            // An API-style refusal instead of a redirect to a login page, so a test sees it plainly.
            o.Events.OnRedirectToLogin = context => Refuse(context.Response, StatusCodes.Status401Unauthorized);
            o.Events.OnRedirectToAccessDenied = context => Refuse(context.Response, StatusCodes.Status403Forbidden);
        });
        builder.Services.AddAuthorizationBuilder().AddPolicy("ops", p => p.RequireAuthenticatedUser().RequireRole("ops"));

        var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapGet("/login", async (HttpContext http, string user, string? role) =>
        {
            var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, user), new Claim(ClaimTypes.Role, role ?? "ops")], CookieAuthenticationDefaults.AuthenticationScheme);
            await http.SignInAsync(new ClaimsPrincipal(identity));
            return Results.Text($"signed in as {user}");
        });
        app.MapDurablyDashboard("/durably", configure).RequireAuthorization("ops");
        app.MapDurablyDashboard("/durably-view", o => o.ReadOnly = true).RequireAuthorization("ops");
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new DashboardApp(app, directory, new Uri(address));
    }

    private static Task Refuse(HttpResponse response, int status)
    {
        response.StatusCode = status;
        return Task.CompletedTask;
    }

    /// <summary>A client that keeps cookies and does not follow redirects; signed in as <paramref name="user"/> unless null.</summary>
    public async Task<HttpClient> ClientAsync(string? user = "alice", string role = "ops")
    {
        var client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = Address };
        if (user is not null)
        {
            (await client.GetAsync($"/login?user={Uri.EscapeDataString(user)}&role={role}")).EnsureSuccessStatusCode();
        }

        return client;
    }

    /// <summary>Starts a shipment while the carrier is down and waits until it is parked.</summary>
    public async Task<string> ParkedShipmentAsync(string id, Parcel? parcel = null)
    {
        Carrier.Down = true;
        await Shipments.StartAsync(parcel ?? new Parcel("ada", "1 Main St", "hunter2", "leave at door"), id);
        await UntilAsync(async () => (await Client.GetRunAsync(id))?.Status == WorkflowStatus.DeadLettered, $"run {id} was never dead-lettered");
        return id;
    }

    public static async Task UntilAsync(Func<Task<bool>> condition, string failure)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(failure);
            }

            await Task.Delay(20);
        }
    }

    /// <summary>The antiforgery field of the first form in <paramref name="html"/> that posts to <paramref name="action"/>.</summary>
    public static KeyValuePair<string, string> AntiforgeryField(string html, string action)
    {
        var form = FormPattern().Matches(html).Select(m => m.Value).FirstOrDefault(f => f.Contains($"/actions/{action}\"", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"The page has no form for action {action}.");
        var field = HiddenPattern().Match(form);
        return new(field.Groups["name"].Value, WebUtility.HtmlDecode(field.Groups["value"].Value));
    }

    [GeneratedRegex("<form method=\"post\".*?</form>", RegexOptions.Singleline)]
    private static partial Regex FormPattern();

    [GeneratedRegex("<input type=\"hidden\" name=\"(?<name>__RequestVerificationToken[^\"]*)\" value=\"(?<value>[^\"]*)\">")]
    private static partial Regex HiddenPattern();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still closing: the temp directory is swept by the system.
        }
    }
}
