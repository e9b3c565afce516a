namespace Durably;

/// <summary>
/// Describes the step attempt that is running on the current asynchronous flow. Read it from a step body through
/// <see cref="Current"/>, typically to pass <see cref="IdempotencyKey"/> to an external API.
/// </summary>
public sealed class StepContext
{
    private static readonly AsyncLocal<StepContext?> s_current = new();

    /// <summary>Creates a step context. Only the engine creates them, one per step attempt.</summary>
    /// <param name="workflowId">The id of the run the step belongs to.</param>
    /// <param name="stepId">The step's stable id.</param>
    /// <param name="sequence">The durable operation's sequence number within the run.</param>
    /// <param name="attempt">The attempt number, starting at 1.</param>
    /// <param name="services">The DI scope of this attempt.</param>
    /// <param name="cancellationToken">Cancelled when the attempt must stop.</param>
    /// <param name="isCompensation">Whether this is an attempt of the step's compensation rather than of the step.</param>
    internal StepContext(string workflowId, string stepId, long sequence, int attempt, IServiceProvider services, CancellationToken cancellationToken, bool isCompensation = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(workflowId);
        ArgumentException.ThrowIfNullOrEmpty(stepId);
        ArgumentOutOfRangeException.ThrowIfNegative(sequence);
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        ArgumentNullException.ThrowIfNull(services);
        WorkflowId = workflowId;
        StepId = stepId;
        Sequence = sequence;
        Attempt = attempt;
        Services = services;
        CancellationToken = cancellationToken;
        IsCompensation = isCompensation;
        IdempotencyKey = CreateIdempotencyKey(workflowId, stepId, sequence) + (isCompensation ? CompensationKeySuffix : string.Empty);
    }

    /// <summary>What a compensation's <see cref="IdempotencyKey"/> adds to its step's key.</summary>
    public const string CompensationKeySuffix = "/compensate";

    /// <summary>
    /// Whether this attempt runs the step's compensation (<see cref="StepAttribute.Compensate"/>): then
    /// <see cref="Sequence"/> is the compensated step call's and <see cref="IdempotencyKey"/> ends in <c>/compensate</c>.
    /// </summary>
    public bool IsCompensation { get; }

    /// <summary>The context of the step attempt running on this flow, or <see langword="null"/> outside a step body.</summary>
    public static StepContext? Current => s_current.Value;

    /// <summary>The id of the run the step belongs to.</summary>
    public string WorkflowId { get; }

    /// <summary>The step's stable id.</summary>
    public string StepId { get; }

    /// <summary>The durable operation's sequence number within the run.</summary>
    public long Sequence { get; }

    /// <summary>The attempt number, starting at 1.</summary>
    public int Attempt { get; }

    /// <summary>The DI scope created for this attempt.</summary>
    public IServiceProvider Services { get; }

    /// <summary>Cancelled when the attempt must stop.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>
    /// A key that is the same for every attempt, replay and worker of this operation and different for every other
    /// operation (a compensation has its own: the step's key followed by <c>/compensate</c>): pass it to external APIs
    /// so that an at-least-once body is exactly-once in effect.
    /// </summary>
    public string IdempotencyKey { get; }

    /// <summary>
    /// The idempotency key of the step call: for a step, <see cref="IdempotencyKey"/>; for a compensation, the key the
    /// step it undoes was given — what to ask the other side to undo ("refund whatever was charged with this key"),
    /// which works even when the step's outcome is unknown.
    /// </summary>
    public string StepIdempotencyKey => CreateIdempotencyKey(WorkflowId, StepId, Sequence);

    /// <summary>Builds the idempotency key of an operation: <c>{workflowId}/{stepId}/{sequence}</c>.</summary>
    /// <param name="workflowId">The run's workflow id.</param>
    /// <param name="stepId">The step's stable id.</param>
    /// <param name="sequence">The operation's sequence number.</param>
    /// <returns>The key.</returns>
    public static string CreateIdempotencyKey(string workflowId, string stepId, long sequence)
        => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{workflowId}/{stepId}/{sequence}");

    /// <summary>
    /// Reports how far this step has come, for clients, the dashboard and the CLI to show beside the step
    /// (<see cref="WorkflowOperationInfo.Progress"/>). Cheap to call in a tight loop: reports are throttled — the first is
    /// written at once, later ones at most every <c>DurableOptions.ProgressInterval</c> (250 ms by default), the latest
    /// winning, and the last one always lands. Progress is not journaled: a retried step starts reporting afresh. In a
    /// compensation, or where no engine runs the step, it records nothing.
    /// </summary>
    /// <param name="fraction">How much is done, from 0 to 1.</param>
    /// <param name="message">What it is doing (<c>"row 3,400 of 10,000"</c>), at most <see cref="MaxProgressMessageLength"/> characters; optional.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fraction"/> is not a number from 0 to 1.</exception>
    /// <exception cref="ArgumentException"><paramref name="message"/> is too long or has control characters.</exception>
    public void ReportProgress(double fraction, string? message = null)
    {
        if (!(fraction is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, $"Progress of step '{StepId}' must be a fraction from 0 to 1, not {fraction.ToString(System.Globalization.CultureInfo.InvariantCulture)}.");
        }

        if (message is not null)
        {
            if (message.Length > MaxProgressMessageLength)
            {
                throw new ArgumentException($"The progress message of step '{StepId}' is {message.Length} characters long; the limit is {MaxProgressMessageLength}.", nameof(message));
            }

            for (var i = 0; i < message.Length; i++)
            {
                if (char.IsControl(message[i]))
                {
                    throw new ArgumentException($"The progress message of step '{StepId}' contains control character U+{(int)message[i]:X4} at position {i}.", nameof(message));
                }
            }
        }

        if (!IsCompensation)
        {
            ProgressSink?.Report(Sequence, StepId, fraction, message);
        }
    }

    /// <summary>The longest message <see cref="ReportProgress"/> accepts.</summary>
    public const int MaxProgressMessageLength = 256;

    /// <summary>Where <see cref="ReportProgress"/> goes: the run's throttled progress writer. Set by the engine.</summary>
    internal IStepProgressSink? ProgressSink { get; init; }

    /// <summary>
    /// What the store gave this attempt to work in, opaque to the SDK: the open transaction of a
    /// <c>[Step(Transactional = true)]</c> attempt, which the store's own extension method hands to the body.
    /// </summary>
    internal object? StoreTransaction { get; init; }

    /// <summary>Makes <paramref name="context"/> current for the rest of this asynchronous flow. Only the engine does.</summary>
    /// <param name="context">The context, or <see langword="null"/> to clear it.</param>
    internal static void SetCurrent(StepContext? context) => s_current.Value = context;
}

/// <summary>Takes the progress reports of a run's steps (<see cref="StepContext.ReportProgress"/>). The engine implements it.</summary>
internal interface IStepProgressSink
{
    /// <summary>The step at <paramref name="sequence"/> reports <paramref name="fraction"/>; called from any thread, often.</summary>
    void Report(long sequence, string stepId, double fraction, string? message);
}
