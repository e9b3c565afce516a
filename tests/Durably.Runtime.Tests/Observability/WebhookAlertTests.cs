using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Durably.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Durably.Runtime.Tests.Observability;

/// <summary>
/// The webhook alert sink against a real HTTP listener on 127.0.0.1: the JSON it posts, its headers, and what happens
/// when the webhook answers an error, hangs or is not there — logged, and the run unaffected.
/// </summary>
public sealed class WebhookAlertTests : StoreTestBase, IDisposable
{
    private readonly TripLog _log = new();
    private readonly ListLoggerFactory _logs = new();
    private readonly LocalHttpServer _server;
    private readonly ConcurrentQueue<(string Body, string? ContentType, string? Authorization)> _posts = new();
    private readonly string _url;
    private Func<HttpListenerContext, Task> _answer = context => LocalHttpServer.Respond(context, 204);

    public WebhookAlertTests()
    {
        _server = new LocalHttpServer(async context =>
        {
            using (var reader = new StreamReader(context.Request.InputStream, context.Request.ContentEncoding))
            {
                _posts.Enqueue((await reader.ReadToEndAsync(), context.Request.ContentType, context.Request.Headers["Authorization"]));
            }

            await _answer(context);
        });
        _url = _server.Url + "alerts/";
    }

    private protected override TestStorage CreateStorage() => TestStorage.InMemory(Clock);

    private TestHost Host(Action<WebhookAlertOptions>? webhook = null) => Track(new TestHost(
        OpenStore(), d => d.AddWorkflow<Trip>().AddWebhookAlerts(new Uri(_url), o =>
        {
            o.Headers["Authorization"] = "Bearer s3cret";
            webhook?.Invoke(o);
        }),
        s => s.AddSingleton<TimeProvider>(Clock).AddSingleton(_log).AddSingleton<ILoggerFactory>(_logs),
        "webhook-worker",
        o => o.UnloadThreshold = Timeout.InfiniteTimeSpan));

    private async Task<string> ParkedRunAsync(TestHost host, string message)
    {
        _log.BookFlight = (attempt, _) => throw new TimeoutException(message);
        var id = "hook-" + Guid.NewGuid().ToString("N");
        await host.Get<TripClient>().StartAsync("ada", id);
        Assert.Equal(WorkflowStatus.DeadLettered, (await host.Engine.ExecuteAsync(id).WaitAsync(Wait.Timeout)).Status);
        await host.Engine.Context.Telemetry.Alerts.FlushAsync(Wait.Timeout);
        return id;
    }

    [Fact]
    public async Task A_dead_letter_is_posted_as_json_with_the_configured_headers()
    {
        var host = Host();
        // A hostile message: quotes, a line break, a non-BMP character and markup survive as data.
        const string message = "airline said \"no\"\n<script>🚀</script>";

        var id = await ParkedRunAsync(host, message);

        var post = Assert.Single(_posts);
        Assert.Equal(("application/json; charset=utf-8", "Bearer s3cret"), (post.ContentType, post.Authorization));
        using var json = JsonDocument.Parse(post.Body);
        var root = json.RootElement;
        Assert.Equal("RunDeadLettered", root.GetProperty("kind").GetString());
        Assert.Equal(id, root.GetProperty("workflowId").GetString());
        Assert.Equal("Trip", root.GetProperty("workflowName").GetString());
        Assert.Equal(1, root.GetProperty("workflowVersion").GetInt32());
        Assert.Equal("DeadLettered", root.GetProperty("status").GetString());
        Assert.Equal("BookFlight", root.GetProperty("failedStep").GetString());
        Assert.Equal(2, root.GetProperty("failedSequence").GetInt64());
        Assert.Equal("webhook-worker", root.GetProperty("worker").GetString());
        Assert.Equal("Durably.StepFailedException", root.GetProperty("error").GetProperty("type").GetString());
        Assert.EndsWith(message, root.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.StartsWith($"Run '{id}' of workflow 'Trip' v1 ended DeadLettered at step 'BookFlight'", root.GetProperty("summary").GetString(), StringComparison.Ordinal);
        Assert.Equal(Clock.GetUtcNow(), root.GetProperty("at").GetDateTimeOffset());
        Assert.False(root.TryGetProperty("previousWorker", out _));
    }

    [Fact]
    public async Task A_webhook_answering_an_error_is_logged_with_its_status_and_the_run_is_unaffected()
    {
        _answer = context => LocalHttpServer.Respond(context, 503);
        var host = Host();

        var id = await ParkedRunAsync(host, "airline down");

        Assert.Single(_posts);
        Assert.Equal(WorkflowStatus.DeadLettered, (await host.Client.GetRunAsync(id))!.Status);
        Assert.Contains(_logs.Log.Lines, l => l == $"Error: Durably alert sink WebhookAlertSink could not deliver the RunDeadLettered alert of run {id}; the run is not affected");
    }

    [Fact]
    public async Task A_webhook_that_hangs_is_given_up_after_its_timeout()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _answer = async context =>
        {
            await release.Task;
            await LocalHttpServer.Respond(context, 204);
        };
        var host = Host(o => o.Timeout = TimeSpan.FromMilliseconds(100));

        var id = await ParkedRunAsync(host, "airline down");
        release.SetResult();

        Assert.Contains(_logs.Log.Lines, l => l == $"Error: Durably alert sink WebhookAlertSink could not deliver the RunDeadLettered alert of run {id}; the run is not affected");
    }

    [Fact]
    public async Task A_webhook_nobody_listens_on_is_logged_and_the_run_is_unaffected()
    {
        _server.Stop();
        var host = Host();

        var id = await ParkedRunAsync(host, "airline down");

        Assert.Equal(WorkflowStatus.DeadLettered, (await host.Client.GetRunAsync(id))!.Status);
        Assert.Contains(_logs.Log.Lines, l => l.Contains($"could not deliver the RunDeadLettered alert of run {id}", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("relative/alerts", null, "must be an absolute http or https address; it is 'relative/alerts'")]
    [InlineData("ftp://127.0.0.1/alerts", null, "must be an absolute http or https address; it is 'ftp://127.0.0.1/alerts'")]
    [InlineData("http://127.0.0.1/alerts", 0, "Timeout must be more than zero and at most 00:05:00; it is 00:00:00")]
    [InlineData("http://127.0.0.1/alerts", 300_001, "Timeout must be more than zero and at most 00:05:00; it is 00:05:00.0010000")]
    public void Webhook_options_that_cannot_work_are_refused_at_registration_naming_the_setting(string url, int? timeoutMs, string expected)
    {
        var services = new ServiceCollection();
        var error = Assert.Throws<ArgumentException>(() => services.AddDurably().AddWebhookAlerts(new Uri(url, UriKind.RelativeOrAbsolute), o =>
        {
            if (timeoutMs is { } ms)
            {
                o.Timeout = TimeSpan.FromMilliseconds(ms);
            }
        }));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("X-Token", "line\r\nInjected: yes")]
    [InlineData("Bad Name", "v")]
    [InlineData("", "v")]
    public void A_header_that_could_split_the_request_is_refused(string name, string value)
    {
        var options = new WebhookAlertOptions { Url = new Uri("http://127.0.0.1/alerts") };
        options.Headers[name] = value;
        Assert.Contains("has an invalid header", Assert.Throws<ArgumentException>(options.Validate).Message, StringComparison.Ordinal);
    }

    public new void Dispose()
    {
        _server.Dispose();
        base.Dispose();
    }
}
