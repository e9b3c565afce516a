namespace Durably.Dashboard;

/// <summary>The frame around every page: head, navigation, who is signed in.</summary>
internal static class Layout
{
    private static readonly (string Page, string Label)[] s_navigation =
    [
        ("/", "Overview"), ("/runs", "Runs"), ("/dead-letters", "Dead letters"), ("/workers", "Workers"), ("/versions", "Versions"),
    ];

    public static string Page(DashboardRequest request, string title, string section, Html body)
    {
        var navigation = Html.Join(s_navigation.Select(n => n.Page == section
            ? Html.Of($"<a class=\"here\" href=\"{request.Href(n.Page)}\">{n.Label}</a>")
            : Html.Of($"<a href=\"{request.Href(n.Page)}\">{n.Label}</a>")));
        var mode = request.Options.ReadOnly ? Html.Trusted(" · read-only") : Html.Empty;
        return Html.Of($"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="referrer" content="no-referrer">
            <title>{title} · Durably</title>
            <link rel="stylesheet" href="{request.Href(Assets.StylePath)}">
            <script src="{request.Href(Assets.ScriptPath)}" defer></script>
            </head>
            <body>
            <header class="top"><a class="brand" href="{request.Href("/")}">Durably</a><nav>{navigation}</nav><span class="who">{request.OperatorName()}{mode}</span></header>
            <main>
            {body}
            </main>
            </body>
            </html>
            """).ToString();
    }
}
