using System.ComponentModel;

namespace Durably.Infrastructure;

/// <summary>
/// The retry settings a <c>[Step]</c> sets itself, emitted by the Durably generator; every other setting comes from
/// the workflow-wide default (<c>DurableOptions.DefaultRetryPolicy</c>).
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed record RetryOverrides
{
    /// <summary>Overrides <see cref="RetryPolicy.MaxAttempts"/>.</summary>
    public int? MaxAttempts { get; init; }

    /// <summary>Overrides <see cref="RetryPolicy.InitialDelay"/>.</summary>
    public TimeSpan? InitialDelay { get; init; }

    /// <summary>Overrides <see cref="RetryPolicy.BackoffCoefficient"/>.</summary>
    public double? BackoffCoefficient { get; init; }

    /// <summary>Overrides <see cref="RetryPolicy.MaxDelay"/>.</summary>
    public TimeSpan? MaxDelay { get; init; }

    /// <summary>Overrides <see cref="RetryPolicy.Jitter"/>.</summary>
    public double? Jitter { get; init; }

    /// <summary>Overrides <see cref="RetryPolicy.RetryOn"/>.</summary>
    public IReadOnlyList<Type>? RetryOn { get; init; }

    /// <summary>Overrides <see cref="RetryPolicy.DoNotRetryOn"/>.</summary>
    public IReadOnlyList<Type>? DoNotRetryOn { get; init; }

    /// <summary>The policy these overrides make of <paramref name="defaults"/>.</summary>
    /// <param name="defaults">The workflow-wide default.</param>
    /// <returns>The step's policy.</returns>
    public RetryPolicy ApplyTo(RetryPolicy defaults)
    {
        ArgumentNullException.ThrowIfNull(defaults);
        return defaults with
        {
            MaxAttempts = MaxAttempts ?? defaults.MaxAttempts,
            InitialDelay = InitialDelay ?? defaults.InitialDelay,
            BackoffCoefficient = BackoffCoefficient ?? defaults.BackoffCoefficient,
            MaxDelay = MaxDelay ?? (InitialDelay > defaults.MaxDelay ? InitialDelay.Value : defaults.MaxDelay),
            Jitter = Jitter ?? defaults.Jitter,
            RetryOn = RetryOn ?? defaults.RetryOn,
            DoNotRetryOn = DoNotRetryOn ?? defaults.DoNotRetryOn,
        };
    }
}
