using Microsoft.AspNetCore.Http;

namespace Durably.Dashboard;

/// <summary>How the dashboard behaves: read-only or not, how much of a payload it shows and what it hides.</summary>
public sealed class DurablyDashboardOptions
{
    /// <summary>The default of <see cref="MaxPayloadCharacters"/>.</summary>
    public const int DefaultMaxPayloadCharacters = 16 * 1024;

    /// <summary>The default of <see cref="PageSize"/>.</summary>
    public const int DefaultPageSize = 50;

    /// <summary>
    /// Hides every action (cancel, retry, discard, signal) and maps no endpoint that changes anything: for people who may
    /// look but not touch, mount a second, read-only dashboard under another path and policy. False unless set.
    /// </summary>
    public bool ReadOnly { get; set; }

    /// <summary>
    /// The most characters of one input, output or error the dashboard shows; the rest is cut with a note that says how
    /// much was left out. 256 to 1,048,576; 16,384 unless set.
    /// </summary>
    public int MaxPayloadCharacters { get; set; } = DefaultMaxPayloadCharacters;

    /// <summary>How many runs a page of a list shows, 1 to <see cref="WorkflowRunQuery.MaxPageSize"/>; 50 unless set.</summary>
    public int PageSize { get; set; } = DefaultPageSize;

    /// <summary>
    /// JSON properties whose values are shown as <c>"***"</c> wherever they occur in an input or output, compared
    /// without regard to case. Holds <c>password</c>, <c>secret</c>, <c>token</c>, <c>apiKey</c>, <c>cardNumber</c> and
    /// <c>cvv</c> unless changed; clear it to show everything.
    /// </summary>
    public ISet<string> RedactedProperties { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "password", "secret", "token", "apiKey", "cardNumber", "cvv",
    };

    /// <summary>
    /// The app's redaction hook, called for every payload before it is shown (after <see cref="RedactedProperties"/>):
    /// return the text to show — the JSON as given, an edited copy, or a note — or <see langword="null"/> to hide the
    /// payload altogether. An exception it throws hides the payload and is shown as the reason.
    /// </summary>
    public Func<DashboardPayload, string?>? Redact { get; set; }

    /// <summary>
    /// Who an action is recorded as: the signed-in user's name (<c>User.Identity.Name</c>) unless set; a request with no
    /// name is recorded as <c>anonymous</c>.
    /// </summary>
    public Func<HttpContext, string>? Operator { get; set; }

    /// <summary>Throws, naming the bad value, unless every option is in range.</summary>
    internal void Validate()
    {
        if (MaxPayloadCharacters is < 256 or > 1024 * 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxPayloadCharacters), MaxPayloadCharacters,
                $"DurablyDashboardOptions.MaxPayloadCharacters must be 256 to 1,048,576; it is {MaxPayloadCharacters}.");
        }

        if (PageSize is < 1 or > WorkflowRunQuery.MaxPageSize)
        {
            throw new ArgumentOutOfRangeException(nameof(PageSize), PageSize,
                $"DurablyDashboardOptions.PageSize must be 1 to {WorkflowRunQuery.MaxPageSize}; it is {PageSize}.");
        }
    }
}

/// <summary>A payload about to be shown, as the redaction hook (<see cref="DurablyDashboardOptions.Redact"/>) sees it.</summary>
/// <param name="WorkflowName">The run's workflow.</param>
/// <param name="WorkflowId">The run.</param>
/// <param name="Kind">Which payload of the run it is.</param>
/// <param name="OperationName">The step, timer, signal or compensation it belongs to; null for the run's own input, output or error.</param>
/// <param name="Text">The payload: JSON for inputs and outputs, text for errors.</param>
public sealed record DashboardPayload(string WorkflowName, string WorkflowId, DashboardPayloadKind Kind, string? OperationName, string Text);

/// <summary>Which payload of a run the dashboard shows.</summary>
public enum DashboardPayloadKind
{
    /// <summary>The run's input.</summary>
    RunInput = 0,

    /// <summary>The run's result.</summary>
    RunOutput = 1,

    /// <summary>A journaled operation's input (a step's arguments, a timer's due time, a signal's deadline).</summary>
    OperationInput = 2,

    /// <summary>A journaled operation's result (a step's return value, a signal's payload).</summary>
    OperationOutput = 3,

    /// <summary>An error message, of the run or of an operation.</summary>
    Error = 4,

    /// <summary>The status the run published (<c>Workflow.SetStatus</c>).</summary>
    RunStatus = 5,
}
