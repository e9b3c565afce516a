namespace Durably.Infrastructure;

/// <summary>The result of a step or run that returns no value. Journaled as <c>null</c>.</summary>
public readonly record struct Unit
{
    /// <summary>The only value.</summary>
    public static Unit Value => default;
}
