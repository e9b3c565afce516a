namespace Durably;

/// <summary>
/// The outcome of waiting for a signal: the payload, when a signal came in time, or a timeout — an ordinary outcome to
/// branch on, not an exception. Identical on replay: it is journaled.
/// </summary>
/// <typeparam name="T">The payload's type.</typeparam>
public readonly record struct SignalResult<T>
{
    private SignalResult(bool isReceived, T? payload)
    {
        IsReceived = isReceived;
        Payload = payload;
    }

    /// <summary>The wait ended without a signal: its timeout passed first.</summary>
    public static SignalResult<T> TimedOut => default;

    /// <summary>Whether a signal arrived before the timeout.</summary>
    public bool IsReceived { get; }

    /// <summary>Whether the timeout passed first.</summary>
    public bool IsTimedOut => !IsReceived;

    /// <summary>The signal's payload; <see langword="default"/> when the wait timed out.</summary>
    public T? Payload { get; }

    /// <summary>A wait that received <paramref name="payload"/>.</summary>
    /// <param name="payload">The signal's payload.</param>
    /// <returns>The outcome.</returns>
    public static SignalResult<T> Received(T payload) => new(true, payload);
}
