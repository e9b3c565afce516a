using Durably.Dashboard;
using Durably.Runtime;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the Durably dashboard to an ASP.NET Core app: <c>services.AddDurablyDashboard()</c>, then <c>app.MapDurablyDashboard("/durably")</c>.</summary>
public static class DurablyDashboardExtensions
{
    /// <summary>Registers what the dashboard needs beside <c>AddDurably()</c>: antiforgery for its actions.</summary>
    /// <param name="services">The app's services.</param>
    /// <returns>The same services.</returns>
    public static IServiceCollection AddDurablyDashboard(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddAntiforgery();
        services.TryAddSingleton<DashboardMarker>();
        return services;
    }

    /// <summary>
    /// Mounts the dashboard at <paramref name="prefix"/> and returns its endpoint group, which the app protects with its
    /// own authorization: <c>app.MapDurablyDashboard("/durably").RequireAuthorization("ops")</c>. Every action asks for a
    /// reason, checks the antiforgery token of its form and is recorded with the operator's name
    /// (<see cref="DurableOperator"/>); <see cref="DurablyDashboardOptions.ReadOnly"/> maps no action at all.
    /// </summary>
    /// <param name="endpoints">The app's endpoint builder.</param>
    /// <param name="prefix">Where to mount it: a path that starts with <c>/</c>, such as <c>/durably</c>.</param>
    /// <param name="configure">Sets this mount's options (read-only, payload cap, redaction).</param>
    /// <returns>The dashboard's endpoint group: add authorization, rate limits or CORS to it as to any group.</returns>
    /// <exception cref="ArgumentException">The prefix is not a path.</exception>
    /// <exception cref="InvalidOperationException"><c>AddDurably()</c> or <c>AddDurablyDashboard()</c> was not called.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public static RouteGroupBuilder MapDurablyDashboard(this IEndpointRouteBuilder endpoints, string prefix = "/durably", Action<DurablyDashboardOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(prefix);
        if (!prefix.StartsWith('/') || prefix.IndexOfAny(['?', '#', '{', '}', '\\']) >= 0 || prefix.Any(char.IsControl) || prefix.Contains("//", StringComparison.Ordinal))
        {
            throw new ArgumentException($"The dashboard's prefix must be a path that starts with '/', such as \"/durably\", without '?', '#', braces or backslashes; it is \"{prefix}\".", nameof(prefix));
        }

        if (endpoints.ServiceProvider.GetService<DurableOperator>() is null)
        {
            throw new InvalidOperationException("The Durably dashboard reads and acts through Durably's services: call services.AddDurably(...) before mapping it.");
        }

        if (endpoints.ServiceProvider.GetService<DashboardMarker>() is null || endpoints.ServiceProvider.GetService<IAntiforgery>() is null)
        {
            throw new InvalidOperationException("The Durably dashboard needs its services (antiforgery for its actions): call services.AddDurablyDashboard() before mapping it.");
        }

        var options = new DurablyDashboardOptions();
        configure?.Invoke(options);
        options.Validate();
        var trimmed = prefix.TrimEnd('/');
        var group = endpoints.MapGroup(trimmed);
        DashboardEndpoints.Map(group, options, trimmed);
        return group;
    }
}

/// <summary>Says that <c>AddDurablyDashboard()</c> was called.</summary>
internal sealed class DashboardMarker;
