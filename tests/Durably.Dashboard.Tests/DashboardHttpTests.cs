using System.Net;

namespace Durably.Dashboard.Tests;

/// <summary>
/// The dashboard over HTTP, as a browser without script would use it: the app's policy guards every page and action,
/// a forged or reasonless action changes nothing, read-only mode has no actions, hostile strings stay text, and the
/// pages say what happened to a run.
/// </summary>
public sealed class DashboardHttpTests : IAsyncLifetime
{
    private DashboardApp _app = null!;

    public async Task InitializeAsync() => _app = await DashboardApp.StartAsync();

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Theory]
    [InlineData("/durably")]
    [InlineData("/durably/runs")]
    [InlineData("/durably/run?id=x")]
    [InlineData("/durably/dead-letters")]
    [InlineData("/durably/workers")]
    [InlineData("/durably/versions")]
    [InlineData("/durably-view")]
    public async Task Pages_refuse_a_visitor_who_is_not_signed_in_or_lacks_the_policy(string page)
    {
        using var anonymous = await _app.ClientAsync(user: null);
        using var intern = await _app.ClientAsync("intern", role: "intern");

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(page)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await intern.GetAsync(page)).StatusCode);
    }

    [Fact]
    public async Task An_action_from_a_visitor_who_is_not_signed_in_is_refused_and_changes_nothing()
    {
        var id = await _app.ParkedShipmentAsync("ship-anon");
        using var anonymous = await _app.ClientAsync(user: null);

        var response = await anonymous.PostAsync("/durably/actions/retry", Form(("id", id), ("reason", "sneaky")));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(WorkflowStatus.DeadLettered, (await _app.Client.GetRunAsync(id))!.Status);
    }

    [Fact]
    public async Task A_retry_from_the_run_page_resumes_the_run_and_is_recorded_with_the_operator_and_reason()
    {
        var id = await _app.ParkedShipmentAsync("ship-retry");
        using var client = await _app.ClientAsync("alice");
        var page = await client.GetStringAsync($"/durably/run?id={id}");
        Assert.Contains("Parked: a step ran out of attempts", page, StringComparison.Ordinal);
        Assert.Contains("System.TimeoutException: carrier timed out", page, StringComparison.Ordinal);
        var ship = (await _app.Client.GetRunDetailsAsync(id))!.Operations.Single(o => o.Name == "Ship");
        Assert.Contains(ship.IdempotencyKey!, page, StringComparison.Ordinal);

        _app.Carrier.Down = false;
        var response = await client.PostAsync("/durably/actions/retry", Form(DashboardApp.AntiforgeryField(page, "retry"), ("id", id), ("reason", "carrier is back")));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal($"/durably/run?id={id}&done=retry", response.Headers.Location!.OriginalString);
        Assert.Equal("shipped reservation-for-ada to 1 Main St", await _app.Client.WaitForResultAsync<string>(id).WaitAsync(TimeSpan.FromSeconds(30)));
        var action = Assert.Single(await _app.Operator.ListActionsAsync(id));
        Assert.Equal(("retry", "alice", "carrier is back"), (action.Action, action.Actor, action.Reason));
        var after = await client.GetStringAsync(response.Headers.Location!.OriginalString);
        Assert.Contains("Retried: the failed operation has a fresh attempt budget", after, StringComparison.Ordinal);
        Assert.Contains("carrier is back", after, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rerun_from_the_failed_step_creates_a_new_run_that_ships_and_records_where_it_came_from()
    {
        var id = await _app.ParkedShipmentAsync("ship-rerun");
        using var client = await _app.ClientAsync("alice");
        var page = await client.GetStringAsync($"/durably/run?id={id}");
        Assert.Contains("<input name=\"from\" type=\"number\" min=\"0\" required value=\"2\">", page, StringComparison.Ordinal);

        var notANumber = await client.PostAsync("/durably/actions/rerun", Form(DashboardApp.AntiforgeryField(page, "rerun"), ("id", id), ("from", "two"), ("as", ""), ("reason", "typo")));
        var pastTheEnd = await client.PostAsync("/durably/actions/rerun", Form(DashboardApp.AntiforgeryField(page, "rerun"), ("id", id), ("from", "9"), ("as", ""), ("reason", "typo")));
        _app.Carrier.Down = false;
        var response = await client.PostAsync("/durably/actions/rerun", Form(DashboardApp.AntiforgeryField(page, "rerun"), ("id", id), ("from", "2"), ("as", "ship-rerun-2"), ("reason", "carrier is back")));

        Assert.Equal((HttpStatusCode.BadRequest, HttpStatusCode.BadRequest), (notANumber.StatusCode, pastTheEnd.StatusCode));
        Assert.Contains("“two” is not an operation number", await notANumber.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("has operations 0 to 2", await pastTheEnd.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/durably/run?id=ship-rerun-2&done=rerun", response.Headers.Location!.OriginalString);
        Assert.Equal("shipped reservation-for-ada to 1 Main St", await _app.Client.WaitForResultAsync<string>("ship-rerun-2").WaitAsync(TimeSpan.FromSeconds(30)));
        var action = Assert.Single(await _app.Operator.ListActionsAsync("ship-rerun-2"));
        Assert.Equal(("rerun-of:ship-rerun#2", "alice", "carrier is back"), (action.Action, action.Actor, action.Reason));
        Assert.Equal(WorkflowStatus.DeadLettered, (await _app.Client.GetRunAsync(id))!.Status);
        Assert.Contains("Rerun created: this is the new run.", await client.GetStringAsync(response.Headers.Location!.OriginalString), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_forged_post_without_the_antiforgery_token_is_refused_and_changes_nothing()
    {
        var id = await _app.ParkedShipmentAsync("ship-forged");
        using var client = await _app.ClientAsync("alice");
        var page = await client.GetStringAsync($"/durably/run?id={id}");
        var token = DashboardApp.AntiforgeryField(page, "discard");

        var none = await client.PostAsync("/durably/actions/discard", Form(("id", id), ("reason", "forged")));
        var wrong = await client.PostAsync("/durably/actions/discard", Form(new KeyValuePair<string, string>(token.Key, token.Value[..^4] + "AAAA"), ("id", id), ("reason", "forged")));
        using var other = await _app.ClientAsync("mallory");
        var stolen = await other.PostAsync("/durably/actions/discard", Form(token, ("id", id), ("reason", "replayed from another session")));

        Assert.All([none, wrong, stolen], r => Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode));
        Assert.Contains("antiforgery token is missing or does not match", await none.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(WorkflowStatus.DeadLettered, (await _app.Client.GetRunAsync(id))!.Status);
        Assert.Empty(await _app.Operator.ListActionsAsync(id));
    }

    [Theory]
    [InlineData("", "needs a reason; it is blank")]
    [InlineData("   ", "needs a reason; it is blank")]
    [InlineData("huge", "characters long; the limit is 4096")]
    public async Task An_action_without_a_usable_reason_is_refused_with_the_problem_named(string reason, string expected)
    {
        var id = await _app.ParkedShipmentAsync("ship-reason-" + reason.Length);
        using var client = await _app.ClientAsync("alice");
        var page = await client.GetStringAsync($"/durably/run?id={id}");

        var response = await client.PostAsync("/durably/actions/retry",
            Form(DashboardApp.AntiforgeryField(page, "retry"), ("id", id), ("reason", reason == "huge" ? new string('r', 100_000) : reason)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(WorkflowStatus.DeadLettered, (await _app.Client.GetRunAsync(id))!.Status);
    }

    [Fact]
    public async Task The_read_only_dashboard_shows_the_run_but_no_action_and_maps_no_action_endpoint()
    {
        var id = await _app.ParkedShipmentAsync("ship-view");
        using var client = await _app.ClientAsync("alice");

        var page = await client.GetStringAsync($"/durably-view/run?id={id}");
        var full = await client.GetStringAsync($"/durably/run?id={id}");
        var post = await client.PostAsync("/durably-view/actions/retry", Form(DashboardApp.AntiforgeryField(full, "retry"), ("id", id), ("reason", "read-only")));

        Assert.Contains("Parked: a step ran out of attempts", page, StringComparison.Ordinal);
        Assert.DoesNotContain("<form method=\"post\"", page, StringComparison.Ordinal);
        Assert.Contains("read-only", page, StringComparison.Ordinal);
        Assert.Contains("<form method=\"post\"", full, StringComparison.Ordinal);
        Assert.True(post.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed, $"a POST to the read-only dashboard answered {post.StatusCode}");
        Assert.Equal(WorkflowStatus.DeadLettered, (await _app.Client.GetRunAsync(id))!.Status);
    }

    [Fact]
    public async Task Hostile_ids_inputs_and_error_messages_are_shown_as_text()
    {
        const string hostileId = "<script>alert('id')</script>\"'><img src=x onerror=alert(1)>";
        _app.Carrier.Refusal = "<script>alert('error')</script>";
        await _app.ParkedShipmentAsync(hostileId, new Parcel("<b onmouseover=alert('customer')>ada</b>", "</pre><script>alert('input')</script>", "pw", "x"));
        using var client = await _app.ClientAsync("<script>alert('user')</script>");

        foreach (var page in new[] { "/durably", "/durably/runs", "/durably/dead-letters", $"/durably/run?id={Uri.EscapeDataString(hostileId)}" })
        {
            var response = await client.GetAsync(page);
            var html = await response.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.DoesNotContain("<script>alert", html, StringComparison.Ordinal);
            Assert.DoesNotContain("<img src=x", html, StringComparison.Ordinal);
            Assert.DoesNotContain("<b onmouseover", html, StringComparison.Ordinal);
            Assert.Contains("&lt;script&gt;alert(", html, StringComparison.Ordinal);
            Assert.Contains("script-src 'self'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_run_page_shows_the_status_the_run_published_as_text()
    {
        await _app.Approvals.StartAsync("order-<9>", "approval-9");
        await DashboardApp.UntilAsync(async () => (await _app.Client.GetRunDetailsAsync("approval-9"))!.StatusJson is not null, "approval-9 never published its status");
        using var client = await _app.ClientAsync("carol");

        var page = await client.GetStringAsync("/durably/run?id=approval-9");

        Assert.Contains("<h2>Status <span class=\"muted\">— published", page, StringComparison.Ordinal);
        Assert.Contains("Status (", page, StringComparison.Ordinal);
        Assert.Contains("waiting for a decision on order-&lt;9&gt;", page, StringComparison.Ordinal);
        Assert.DoesNotContain("order-<9>", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_step_in_progress_shows_the_progress_it_reported_as_a_bar_with_its_message_as_text()
    {
        await _app.Imports.StartAsync(400, "import-9");
        await DashboardApp.UntilAsync(async () => (await _app.Client.GetRunDetailsAsync("import-9"))!.CurrentOperations.Any(o => o.Progress is not null),
            "import-9 never wrote its progress");
        using var client = await _app.ClientAsync("carol");

        var page = await client.GetStringAsync("/durably/run?id=import-9");
        _app.ImportGate.Open.TrySetResult();

        Assert.Contains("<progress max=\"1\" value=\"0.25\"></progress> 25 % · row &lt;100&gt; of 400 · reported", page, StringComparison.Ordinal);
        Assert.Equal(400, await _app.Client.WaitForResultAsync<int>("import-9").WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.DoesNotContain("<progress", await client.GetStringAsync("/durably/run?id=import-9"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_signal_and_a_cancel_from_the_dashboard_reach_their_runs()
    {
        await _app.Approvals.StartAsync("order-7", "approval-7");
        await _app.Approvals.StartAsync("order-8", "approval-8");
        using var client = await _app.ClientAsync("bob");
        var page7 = await client.GetStringAsync("/durably/run?id=approval-7");
        var page8 = await client.GetStringAsync("/durably/run?id=approval-8");

        var signal = await client.PostAsync("/durably/actions/signal", Form(DashboardApp.AntiforgeryField(page7, "signal"),
            ("id", "approval-7"), ("signal", "approve"), ("payload", """{"By":"bob","Approved":true}"""), ("reason", "customer called")));
        var cancel = await client.PostAsync("/durably/actions/cancel", Form(DashboardApp.AntiforgeryField(page8, "cancel"), ("id", "approval-8"), ("reason", "duplicate order")));
        var badPayload = await client.PostAsync("/durably/actions/signal", Form(DashboardApp.AntiforgeryField(page7, "signal"),
            ("id", "approval-7"), ("signal", "approve"), ("payload", "{not json"), ("reason", "typo")));

        Assert.Equal((HttpStatusCode.Redirect, HttpStatusCode.Redirect), (signal.StatusCode, cancel.StatusCode));
        Assert.Equal("order-7: approved by bob", await _app.Client.WaitForResultAsync<string>("approval-7").WaitAsync(TimeSpan.FromSeconds(30)));
        await DashboardApp.UntilAsync(async () => (await _app.Client.GetRunAsync("approval-8"))!.Status == WorkflowStatus.Cancelled, "approval-8 was never cancelled");
        Assert.Equal("duplicate order", (await _app.Client.GetRunAsync("approval-8"))!.CancelReason);
        Assert.Equal(HttpStatusCode.BadRequest, badPayload.StatusCode);
        Assert.Contains("is not JSON", await badPayload.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(["signal:approve"], (await _app.Operator.ListActionsAsync("approval-7")).Select(a => a.Action));
        Assert.Equal(["cancel"], (await _app.Operator.ListActionsAsync("approval-8")).Select(a => a.Action));
    }

    [Fact]
    public async Task A_payload_over_the_engines_limit_or_a_form_over_the_servers_is_refused_and_changes_nothing()
    {
        await _app.Approvals.StartAsync("order-big", "approval-big");
        using var client = await _app.ClientAsync("bob");
        var page = await client.GetStringAsync("/durably/run?id=approval-big");
        var token = DashboardApp.AntiforgeryField(page, "signal");

        var overLimit = await client.PostAsync("/durably/actions/signal", Form(token,
            ("id", "approval-big"), ("signal", "approve"), ("payload", $$"""{"By":"{{new string('b', 2 * 1024 * 1024)}}","Approved":true}"""), ("reason", "big")));
        var overForm = await client.PostAsync("/durably/actions/cancel", Form(token, ("id", "approval-big"), ("reason", new string('r', 5 * 1024 * 1024))));

        Assert.Equal(HttpStatusCode.BadRequest, overLimit.StatusCode);
        Assert.Contains("over the limit of 1048576 bytes", await overLimit.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, overForm.StatusCode);
        Assert.Contains("The form could not be read", await overForm.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(WorkflowStatus.Running, (await _app.Client.GetRunAsync("approval-big"))!.Status);
        Assert.Null((await _app.Client.GetRunAsync("approval-big"))!.CancelReason);
        Assert.Empty(await _app.Operator.ListActionsAsync("approval-big"));
    }

    [Fact]
    public async Task The_runs_page_filters_pages_and_names_a_bad_filter()
    {
        for (var i = 0; i < 3; i++)
        {
            await _app.Approvals.StartAsync($"order-{i}", new WorkflowStartOptions { WorkflowId = $"filter-{i}", InstanceKey = $"customer-{i}" });
        }

        await _app.ParkedShipmentAsync("filter-parked");
        using var client = await _app.ClientAsync();

        var byKey = await client.GetStringAsync("/durably/runs?key=customer-1");
        var byStatus = await client.GetStringAsync("/durably/runs?status=DeadLettered");
        var byVersion = await client.GetStringAsync("/durably/runs?workflow=Approval&version=1");
        var none = await client.GetStringAsync("/durably/runs?workflow=Approval&version=2");
        var search = await client.GetAsync("/durably/runs?id=filter-2");
        var missing = await client.GetStringAsync("/durably/runs?id=no-such-run");
        var badStatus = await client.GetAsync("/durably/runs?status=Exploded");
        var badTime = await client.GetAsync("/durably/runs?from=yesterday");
        var badToken = await client.GetAsync("/durably/runs?page=AAAA");

        Assert.Contains("filter-1", byKey, StringComparison.Ordinal);
        Assert.DoesNotContain("filter-0", byKey, StringComparison.Ordinal);
        Assert.Contains("filter-parked", byStatus, StringComparison.Ordinal);
        Assert.DoesNotContain("filter-0", byStatus, StringComparison.Ordinal);
        Assert.True(new[] { "filter-0", "filter-1", "filter-2" }.All(id => byVersion.Contains(id, StringComparison.Ordinal)));
        Assert.Contains("No run matches these filters", none, StringComparison.Ordinal);
        Assert.Equal("/durably/run?id=filter-2", search.Headers.Location!.OriginalString);
        Assert.Contains("No run has the id “no-such-run”", missing, StringComparison.Ordinal);
        Assert.Contains("is not one of Running", await badStatus.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("“yesterday” (from) is not a date and time", await badTime.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal((HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.BadRequest), (badStatus.StatusCode, badTime.StatusCode, badToken.StatusCode));
    }

    [Fact]
    public async Task The_overview_counts_runs_and_lists_dead_letters_and_workers()
    {
        await _app.ParkedShipmentAsync("overview-parked");
        await _app.Approvals.StartAsync("order-9", "overview-waiting");
        using var client = await _app.ClientAsync();

        var overview = await client.GetStringAsync("/durably");
        var workers = await client.GetStringAsync("/durably/workers");
        var versions = await client.GetStringAsync("/durably/versions");
        var letters = await client.GetStringAsync("/durably/dead-letters");

        Assert.Matches("<div class=\"n\">1</div><div class=\"l\">Dead letters</div>", overview);
        Assert.Contains("overview-parked", overview, StringComparison.Ordinal);
        Assert.Contains("Shipment v1", workers, StringComparison.Ordinal);
        Assert.Contains("live", workers, StringComparison.Ordinal);
        Assert.Contains("Approval", versions, StringComparison.Ordinal);
        Assert.Contains("Step failed", letters, StringComparison.Ordinal);
    }

    private static FormUrlEncodedContent Form(params (string Name, string Value)[] fields)
        => new(fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)));

    private static FormUrlEncodedContent Form(KeyValuePair<string, string> token, params (string Name, string Value)[] fields)
        => new([token, .. fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value))]);
}
