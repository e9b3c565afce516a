using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Durably.Dashboard;

/// <summary>The dashboard's routes: its pages, its two static files and — unless read-only — its one action endpoint.</summary>
internal static class DashboardEndpoints
{
    public static void Map(RouteGroupBuilder group, DurablyDashboardOptions options, string prefix)
    {
        MapPage(group, "/", options, prefix, OverviewPage.RenderAsync);
        MapPage(group, "/runs", options, prefix, RunsPage.RenderAsync);
        MapPage(group, "/run", options, prefix, RunPage.RenderAsync);
        MapPage(group, "/dead-letters", options, prefix, DeadLettersPage.RenderAsync);
        MapPage(group, "/workers", options, prefix, WorkersPage.RenderAsync);
        MapPage(group, "/versions", options, prefix, VersionsPage.RenderAsync);
        group.MapGet(Assets.StylePath, http => Static(http, Assets.Style, "text/css; charset=utf-8"));
        group.MapGet(Assets.ScriptPath, http => Static(http, Assets.Script, "text/javascript; charset=utf-8"));
        if (!options.ReadOnly)
        {
            group.MapPost("/actions/{action}", http => Handle(http, options, prefix, TakeActionAsync));
        }
    }

    private static Task<IResult> TakeActionAsync(DashboardRequest request)
        => RunActions.HandleAsync(request, request.Http.Request.RouteValues["action"] as string ?? "");

    private static void MapPage(RouteGroupBuilder group, string page, DurablyDashboardOptions options, string prefix, Func<DashboardRequest, Task<IResult>> render)
        => group.MapGet(page, http => Handle(http, options, prefix, render));

    private static async Task Handle(HttpContext http, DurablyDashboardOptions options, string prefix, Func<DashboardRequest, Task<IResult>> render)
    {
        var result = await Render(http, options, prefix, render).ConfigureAwait(false);
        await result.ExecuteAsync(http).ConfigureAwait(false);
    }

    private static async Task<IResult> Render(HttpContext http, DurablyDashboardOptions options, string prefix, Func<DashboardRequest, Task<IResult>> render)
    {
        Secure(http.Response, "no-store");
        var request = new DashboardRequest(http, options, http.Request.PathBase.Value + prefix);
        try
        {
            return await render(request).ConfigureAwait(false);
        }
        catch (ArgumentException ex)
        {
            // A filter, page token or form value the client refused: say which, on the page, rather than fail the request.
            return request.Page("Not understood", "", Html.Of($"<h1>That request was not understood</h1><div class=\"notice error\">{ex.Message}</div><p><a href=\"{request.Href("/")}\">Back to the overview</a></p>"), StatusCodes.Status400BadRequest);
        }
    }

    private static Task Static(HttpContext http, string content, string type)
    {
        Secure(http.Response, "public, max-age=3600");
        return Results.Text(content, type).ExecuteAsync(http);
    }

    /// <summary>The headers of every response: no script or style but the dashboard's own, no framing, no sniffing, no referrer.</summary>
    private static void Secure(HttpResponse response, string cache)
    {
        response.Headers.ContentSecurityPolicy = Assets.ContentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.XFrameOptions = "DENY";
        response.Headers["Referrer-Policy"] = "no-referrer";
        response.Headers.CacheControl = cache;
    }
}
