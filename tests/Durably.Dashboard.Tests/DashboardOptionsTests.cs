using Durably.Runtime;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Durably.Dashboard.Tests;

/// <summary>What the app configures: the payload cap, property redaction, its redaction hook, and mistakes in mounting.</summary>
public sealed class DashboardOptionsTests
{
    [Fact]
    public async Task A_payload_longer_than_the_cap_is_cut_with_a_note_and_redaction_hides_what_the_app_says()
    {
        await using var app = await DashboardApp.StartAsync(o =>
        {
            o.MaxPayloadCharacters = 256;
            o.RedactedProperties.Add("Address");
            o.Redact = payload => payload switch
            {
                { WorkflowId: "hidden-run", Kind: DashboardPayloadKind.RunInput } => null,
                { WorkflowId: "throwing-run", Kind: DashboardPayloadKind.RunInput } => throw new InvalidOperationException("redactor broke"),
                { Kind: DashboardPayloadKind.OperationOutput, OperationName: "Reserve" } => "\"reservation withheld\"",
                _ => payload.Text,
            };
        });
        await app.ParkedShipmentAsync("long-run", new Parcel("ada", "1 Main St", "hunter2", new string('n', 10_000) + "END-OF-NOTES"));
        await app.ParkedShipmentAsync("hidden-run");
        await app.ParkedShipmentAsync("throwing-run");
        using var client = await app.ClientAsync();

        var longRun = await client.GetStringAsync("/durably/run?id=long-run");
        var hidden = await client.GetStringAsync("/durably/run?id=hidden-run");
        var throwing = await client.GetStringAsync("/durably/run?id=throwing-run");

        Assert.Contains("Showing the first 256 of", longRun, StringComparison.Ordinal);
        Assert.DoesNotContain("END-OF-NOTES", longRun, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", longRun, StringComparison.Ordinal);
        Assert.DoesNotContain("1 Main St", longRun, StringComparison.Ordinal);
        Assert.Contains("reservation withheld", longRun, StringComparison.Ordinal);
        Assert.Contains("Hidden by the app&#x27;s redaction.", hidden.Replace("'", "&#x27;", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("redactor broke", throwing, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", throwing, StringComparison.Ordinal);
    }

    [Fact]
    public void Mounting_without_its_services_or_with_a_bad_prefix_or_option_says_what_to_fix()
    {
        var bare = WebApplication.CreateSlimBuilder().Build();
        var noDashboard = Build(s => s.AddDurably(o => o.UseInMemoryStore()));
        var ready = Build(s => s.AddDurably(o => o.UseInMemoryStore()).Services.AddDurablyDashboard());

        Assert.Contains("call services.AddDurably(", Assert.Throws<InvalidOperationException>(() => bare.MapDurablyDashboard()).Message, StringComparison.Ordinal);
        Assert.Contains("call services.AddDurablyDashboard()", Assert.Throws<InvalidOperationException>(() => noDashboard.MapDurablyDashboard()).Message, StringComparison.Ordinal);
        foreach (var prefix in new[] { "", "durably", "/a?b", "/a#b", "/{id}", "//x", "/a\nb" })
        {
            Assert.Contains($"it is \"{prefix}\"", Assert.Throws<ArgumentException>(() => ready.MapDurablyDashboard(prefix)).Message, StringComparison.Ordinal);
        }

        Assert.Contains("MaxPayloadCharacters must be 256 to 1,048,576; it is 10",
            Assert.Throws<ArgumentOutOfRangeException>(() => ready.MapDurablyDashboard("/d1", o => o.MaxPayloadCharacters = 10)).Message, StringComparison.Ordinal);
        Assert.Contains("PageSize must be 1 to 1000; it is 0",
            Assert.Throws<ArgumentOutOfRangeException>(() => ready.MapDurablyDashboard("/d2", o => o.PageSize = 0)).Message, StringComparison.Ordinal);
        Assert.NotNull(ready.MapDurablyDashboard("/ops/durably/"));
    }

    private static WebApplication Build(Action<IServiceCollection> services)
    {
        var builder = WebApplication.CreateSlimBuilder();
        services(builder.Services);
        return builder.Build();
    }
}
