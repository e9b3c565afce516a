namespace Durably.Dashboard;

/// <summary>
/// The dashboard's stylesheet and script, served from its own prefix so the pages' Content-Security-Policy can allow
/// only <c>'self'</c>: no inline script or style, no third-party file, no build step. Every page works without the
/// script; it only shows times in the reader's zone and copies ids.
/// </summary>
internal static class Assets
{
    public const string StylePath = "/assets/dashboard.css";

    public const string ScriptPath = "/assets/dashboard.js";

    /// <summary>The policy every dashboard response carries.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

    public const string Style = """
        :root { --bg:#f6f7f9; --panel:#fff; --ink:#1d2330; --muted:#687083; --line:#e3e6ec; --accent:#3657d6;
          --ok:#1f8a4c; --ok-bg:#e3f5ea; --bad:#c2303a; --bad-bg:#fde8e9; --warn:#a86200; --warn-bg:#fff1dc;
          --run:#2960c9; --run-bg:#e4ecfc; --idle:#5d6475; --idle-bg:#eceef2; }
        * { box-sizing:border-box; }
        body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:var(--ink); background:var(--bg); }
        header.top { display:flex; align-items:center; gap:28px; padding:0 28px; height:52px; background:#161b2b; color:#fff; }
        header.top .brand { font-weight:700; letter-spacing:.3px; color:#fff; text-decoration:none; }
        header.top nav a { color:#b9c1d6; text-decoration:none; margin-right:18px; padding:15px 0; border-bottom:2px solid transparent; }
        header.top nav a.here, header.top nav a:hover { color:#fff; border-bottom-color:#7d96ff; }
        header.top .who { margin-left:auto; color:#b9c1d6; font-size:13px; }
        main { max-width:1280px; margin:0 auto; padding:24px 28px 60px; }
        h1 { font-size:22px; margin:0 0 4px; } h2 { font-size:16px; margin:28px 0 10px; }
        .sub { color:var(--muted); margin:0 0 18px; }
        .muted { color:var(--muted); }
        a { color:var(--accent); }
        code, .mono, pre { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; font-size:12.5px; }
        .cards { display:grid; grid-template-columns:repeat(auto-fill,minmax(170px,1fr)); gap:12px; }
        a.card { display:block; text-decoration:none; color:inherit; } a.card:hover { border-color:#b8c3e6; }
        .card { background:var(--panel); border:1px solid var(--line); border-radius:10px; padding:14px 16px; }
        .card .n { font-size:26px; font-weight:650; } .card .l { color:var(--muted); font-size:12.5px; text-transform:uppercase; letter-spacing:.4px; }
        .card.bad .n { color:var(--bad); } .card.ok .n { color:var(--ok); } .card.warn .n { color:var(--warn); }
        table { width:100%; border-collapse:collapse; background:var(--panel); border:1px solid var(--line); border-radius:10px; overflow:hidden; }
        th, td { text-align:left; padding:8px 12px; border-bottom:1px solid var(--line); vertical-align:top; }
        th { background:#fafbfc; color:var(--muted); font-weight:600; font-size:12px; text-transform:uppercase; letter-spacing:.4px; }
        tr:last-child td { border-bottom:0; }
        td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
        .badge { display:inline-block; padding:1px 8px; border-radius:999px; font-size:12px; font-weight:600; white-space:nowrap; }
        .s-Running { color:var(--run); background:var(--run-bg); } .s-Completed { color:var(--ok); background:var(--ok-bg); }
        .s-Failed, .s-DeadLettered { color:var(--bad); background:var(--bad-bg); } .s-Cancelled, .s-ContinuedAsNew { color:var(--idle); background:var(--idle-bg); }
        .o-InProgress { color:var(--run); background:var(--run-bg); } .o-Completed { color:var(--ok); background:var(--ok-bg); } .o-Failed { color:var(--bad); background:var(--bad-bg); }
        .why { background:var(--bad-bg); border:1px solid #f3c1c4; border-radius:10px; padding:14px 18px; margin:16px 0; }
        .why h2 { margin:0 0 6px; color:var(--bad); } .why .err { font-family:ui-monospace,Menlo,Consolas,monospace; white-space:pre-wrap; word-break:break-word; }
        .notice { border-radius:10px; padding:10px 16px; margin:12px 0; background:var(--ok-bg); color:var(--ok); border:1px solid #b9e3c8; }
        .notice.error { background:var(--bad-bg); color:var(--bad); border-color:#f3c1c4; }
        .facts { display:grid; grid-template-columns:repeat(auto-fill,minmax(240px,1fr)); gap:8px 24px; background:var(--panel); border:1px solid var(--line); border-radius:10px; padding:14px 18px; }
        .facts div span { display:block; color:var(--muted); font-size:12px; } .facts div b { font-weight:500; word-break:break-all; }
        form.filters { display:flex; flex-wrap:wrap; gap:10px; align-items:end; background:var(--panel); border:1px solid var(--line); border-radius:10px; padding:12px 14px; margin-bottom:14px; }
        form.filters label { display:flex; flex-direction:column; font-size:12px; color:var(--muted); gap:3px; }
        input, select, textarea { font:inherit; padding:6px 8px; border:1px solid #cfd4de; border-radius:6px; background:#fff; color:var(--ink); }
        button { font:inherit; padding:6px 14px; border-radius:6px; border:1px solid var(--accent); background:var(--accent); color:#fff; cursor:pointer; }
        button.danger { background:var(--bad); border-color:var(--bad); } button.plain { background:#fff; color:var(--ink); border-color:#cfd4de; }
        .actions { display:flex; flex-wrap:wrap; gap:10px; margin:12px 0; align-items:flex-start; }
        .actions details { background:var(--panel); border:1px solid var(--line); border-radius:10px; padding:8px 14px; }
        .actions summary { cursor:pointer; font-weight:600; }
        .actions form { display:flex; flex-direction:column; gap:8px; margin-top:10px; min-width:360px; }
        .actions form label { display:flex; flex-direction:column; gap:4px; font-size:12.5px; color:var(--muted); }
        .actions details[open] { border-color:#b8c3e6; box-shadow:0 2px 10px rgba(20,30,60,.08); }
        .timeline { list-style:none; margin:0; padding:0; border-left:2px solid var(--line); margin-left:10px; }
        .timeline li { position:relative; padding:0 0 14px 22px; }
        .timeline li::before { content:""; position:absolute; left:-7px; top:5px; width:12px; height:12px; border-radius:50%; background:var(--ok); border:2px solid var(--bg); }
        .timeline li.Failed::before { background:var(--bad); } .timeline li.InProgress::before { background:var(--run); }
        .timeline .head { display:flex; flex-wrap:wrap; gap:8px; align-items:baseline; }
        .timeline .name { font-weight:600; } .timeline .kind { color:var(--muted); font-size:12px; text-transform:uppercase; }
        .timeline .meta { color:var(--muted); font-size:12.5px; margin-top:2px; }
        .timeline .progress progress { width:160px; vertical-align:middle; }
        .timeline .err { color:var(--bad); font-family:ui-monospace,Menlo,Consolas,monospace; font-size:12.5px; white-space:pre-wrap; word-break:break-word; margin-top:4px; }
        details.json summary { cursor:pointer; color:var(--accent); font-size:12.5px; }
        pre.json { background:#0f1422; color:#dfe6f7; padding:12px 14px; border-radius:8px; overflow:auto; max-height:420px; white-space:pre-wrap; word-break:break-word; margin:6px 0; }
        .cut { color:var(--warn); font-size:12.5px; }
        .pager { margin-top:12px; display:flex; gap:12px; }
        .empty { background:var(--panel); border:1px dashed var(--line); border-radius:10px; padding:26px; text-align:center; color:var(--muted); }
        .copy { margin-left:6px; font-size:11px; padding:0 6px; background:#fff; color:var(--muted); border-color:var(--line); }
        """;

    public const string Script = """
        "use strict";
        // Times: each <time> gets the reader's local time as a tooltip beside the UTC one the server wrote.
        for (const t of document.querySelectorAll("time[datetime]")) {
          const d = new Date(t.getAttribute("datetime"));
          if (!isNaN(d)) t.title = d.toLocaleString() + " (local) — " + t.title;
        }
        // Copy buttons: <button class="copy" data-copy="…"> copies its text.
        document.addEventListener("click", e => {
          const b = e.target.closest("button.copy");
          if (!b || !navigator.clipboard) return;
          e.preventDefault();
          navigator.clipboard.writeText(b.dataset.copy).then(() => { b.textContent = "copied"; setTimeout(() => b.textContent = "copy", 1200); });
        });
        """;
}
