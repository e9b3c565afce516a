using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Durably.Runtime;

/// <summary>Where and how <see cref="WebhookAlertSink"/> posts alerts.</summary>
public sealed class WebhookAlertOptions
{
    /// <summary>The longest <see cref="Timeout"/>.</summary>
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromMinutes(5);

    /// <summary>The absolute http or https address each alert is POSTed to.</summary>
    public Uri? Url { get; set; }

    /// <summary>How long one POST may take, 1 ms to <see cref="MaxTimeout"/>; 10 seconds unless set.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Headers sent with every POST, such as <c>Authorization</c>.</summary>
    public IDictionary<string, string> Headers { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Throws, naming the setting and its value, when the options cannot work.</summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public void Validate()
    {
        if (Url is null || !Url.IsAbsoluteUri || (Url.Scheme != Uri.UriSchemeHttp && Url.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"WebhookAlertOptions.Url must be an absolute http or https address; it is {(Url is null ? "not set" : $"'{Url}'")}.", nameof(Url));
        }

        if (Timeout <= TimeSpan.Zero || Timeout > MaxTimeout)
        {
            throw new ArgumentException($"WebhookAlertOptions.Timeout must be more than zero and at most {MaxTimeout}; it is {Timeout}.", nameof(Timeout));
        }

        foreach (var (name, value) in Headers)
        {
            if (string.IsNullOrWhiteSpace(name) || name.Any(c => c <= ' ' || c >= 127 || c == ':') || value is null || value.Any(c => c is '\r' or '\n' or '\0'))
            {
                throw new ArgumentException($"WebhookAlertOptions.Headers has an invalid header '{name}': a name is printable ASCII without spaces or ':', a value has no line breaks.", nameof(Headers));
            }
        }
    }
}

/// <summary>
/// Posts each alert as JSON (<c>application/json</c>, camelCase, enums as strings, plus a <c>summary</c> line) to a
/// webhook. A response other than 2xx, a timeout or a network error is an exception the dispatcher logs; the run is
/// never affected. Add it with <c>AddDurably().AddWebhookAlerts(url)</c>.
/// </summary>
public sealed class WebhookAlertSink : IDurableAlertSink, IDisposable
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly WebhookAlertOptions _options;
    private readonly HttpClient _http;

    /// <summary>Creates the sink; it owns its <see cref="HttpClient"/>.</summary>
    /// <param name="options">Where and how to post; validated here.</param>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public WebhookAlertSink(WebhookAlertOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _http = new HttpClient { Timeout = options.Timeout };
    }

    /// <summary>The JSON body posted for <paramref name="alert"/>.</summary>
    /// <param name="alert">The alert.</param>
    /// <returns>The JSON text.</returns>
    public static string ToJson(DurableAlert alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        return JsonSerializer.Serialize(new
        {
            alert.Kind,
            alert.Summary,
            alert.WorkflowId,
            alert.WorkflowName,
            alert.WorkflowVersion,
            alert.Status,
            alert.Error,
            alert.FailedStep,
            alert.FailedSequence,
            alert.Worker,
            alert.PreviousWorker,
            alert.At,
        }, s_json);
    }

    /// <inheritdoc/>
    public async Task SendAsync(DurableAlert alert, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _options.Url)
        {
            Content = new StringContent(ToJson(alert), Encoding.UTF8, new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" }),
        };
        foreach (var (name, value) in _options.Headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException(
                $"The alert webhook {_options.Url} answered {(int)response.StatusCode} {response.ReasonPhrase} to the {alert.Kind} alert of run '{alert.WorkflowId}'.",
                null, response.StatusCode);
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _http.Dispose();
}
