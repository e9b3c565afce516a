using OpenQA.Selenium;

namespace Durably.Dashboard.Tests;

/// <summary>
/// The dashboard in a real headless Chromium: an operator clicks from the overview to a dead letter, reads why it
/// failed and retries it; hostile strings stay text; the read-only mount has no action; a visitor who is not signed in
/// sees nothing; a form posted without its antiforgery token is refused. Screenshots land in artifacts/screenshots.
/// </summary>
public sealed class BrowserTests : IAsyncLifetime
{
    private DashboardApp _app = null!;
    private Browser _browser = null!;

    public async Task InitializeAsync()
    {
        _app = await DashboardApp.StartAsync();
        _browser = new Browser(_app.Address);
    }

    public async Task DisposeAsync()
    {
        _browser.Dispose();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task An_operator_goes_from_the_overview_to_a_dead_letter_reads_why_and_retries_it()
    {
        await _app.Approvals.StartAsync("order-41", "approval-41");
        await _app.ParkedShipmentAsync("shipment-1042", new Parcel("ada", "1 Main St", "hunter2", "leave at door"));
        _browser.Go("/login?user=alice");
        _browser.Go("/durably");
        Assert.Equal("Overview", _browser.Find(By.TagName("h1")).Text);
        _browser.Screenshot("01-overview");

        _browser.Find(By.LinkText("Dead letters")).Click();
        _browser.Until(d => d.Url.Contains("/dead-letters", StringComparison.Ordinal), "the dead-letters page did not open");
        _browser.Screenshot("02-dead-letters");
        _browser.Find(By.LinkText("shipment-1042")).Click();
        _browser.Until(d => d.FindElements(By.CssSelector(".why h2")).Count == 1, "the run page did not say why the run stopped");
        Assert.Equal("Parked: a step ran out of attempts", _browser.Find(By.CssSelector(".why h2")).Text);
        Assert.Contains("System.TimeoutException: carrier timed out", _browser.Find(By.CssSelector(".why .err")).Text, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", _browser.Driver.PageSource, StringComparison.Ordinal);
        _browser.Screenshot("03-dead-letter-detail");

        _app.Carrier.Down = false;
        var retry = _browser.Find(By.XPath("//details[summary[text()='Retry…']]"));
        retry.FindElement(By.TagName("summary")).Click();
        retry.FindElement(By.Name("reason")).SendKeys("carrier is back up");
        _browser.Screenshot("04-retry-confirmation");
        retry.FindElement(By.CssSelector("button[data-action='retry']")).Click();

        _browser.Until(d => d.FindElements(By.CssSelector(".notice")).Any(n => n.Text.StartsWith("Retried", StringComparison.Ordinal)), "no notice said the run was retried");
        await _app.Client.WaitForResultAsync<string>("shipment-1042").WaitAsync(TimeSpan.FromSeconds(30));
        _browser.Driver.Navigate().Refresh();
        Assert.Equal("Completed", _browser.Find(By.CssSelector("h1 .badge")).Text);
        Assert.Contains("carrier is back up", _browser.Find(By.XPath("//h2[text()=\"Operators' actions\"]/following-sibling::table[1]")).Text, StringComparison.Ordinal);
        _browser.Screenshot("05-retried-and-completed");
    }

    [Fact]
    public async Task Hostile_strings_are_shown_as_text_and_run_no_script()
    {
        const string id = "<script>alert('id')</script>";
        _app.Carrier.Refusal = "<img src=x onerror=alert('error')>";
        await _app.ParkedShipmentAsync(id, new Parcel("<script>alert('input')</script>", "x", "pw", "</pre><script>alert(1)</script>"));
        _browser.Go("/login?user=alice");

        foreach (var page in new[] { "/durably", "/durably/runs", $"/durably/run?id={Uri.EscapeDataString(id)}" })
        {
            _browser.Go(page);
            _browser.Find(By.TagName("h1"));
            Assert.Throws<NoAlertPresentException>(() => _browser.Driver.SwitchTo().Alert());
            Assert.Empty(_browser.Driver.FindElements(By.CssSelector("main img, main script")));
        }

        Assert.StartsWith(id, _browser.Find(By.TagName("h1")).Text, StringComparison.Ordinal);
        Assert.Contains("<img src=x onerror=alert('error')>", _browser.Find(By.CssSelector(".why .err")).Text, StringComparison.Ordinal);
        _browser.Screenshot("06-hostile-strings");
    }

    [Fact]
    public async Task Read_only_has_no_action_a_stranger_sees_nothing_and_a_form_without_its_token_is_refused()
    {
        await _app.ParkedShipmentAsync("shipment-7");
        _browser.Go("/login?user=alice");

        _browser.Go("/durably-view/run?id=shipment-7");
        Assert.Equal("Parked: a step ran out of attempts", _browser.Find(By.CssSelector(".why h2")).Text);
        Assert.DoesNotContain(_browser.Driver.FindElements(By.TagName("form")), f => f.GetAttribute("method") == "post");
        _browser.Screenshot("07-read-only");

        // A form whose antiforgery field was removed, as a forged cross-site post would arrive.
        _browser.Go("/durably/run?id=shipment-7");
        _browser.Driver.FindElement(By.XPath("//details[summary[text()='Discard…']]/summary")).Click();
        ((IJavaScriptExecutor)_browser.Driver).ExecuteScript(
            "const f = document.querySelector(\"form[action$='/actions/discard']\"); f.querySelector(\"input[name^='__RequestVerificationToken']\").remove(); f.reason.value = 'forged'; f.submit();");
        _browser.Until(d => d.FindElements(By.TagName("h1")).Any(h => h.Text == "Refused"), "the form without its token was not refused");
        Assert.Equal(WorkflowStatus.DeadLettered, (await _app.Client.GetRunAsync("shipment-7"))!.Status);
        Assert.Empty(await _app.Operator.ListActionsAsync("shipment-7"));

        _browser.Driver.Manage().Cookies.DeleteAllCookies();
        _browser.Go("/durably");
        Assert.DoesNotContain("Overview", _browser.Driver.PageSource, StringComparison.Ordinal);
        Assert.DoesNotContain("shipment-7", _browser.Driver.PageSource, StringComparison.Ordinal);
    }
}
