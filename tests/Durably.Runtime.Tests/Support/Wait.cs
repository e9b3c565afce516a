namespace Durably.Runtime.Tests.Support;

/// <summary>
/// How the runtime tests wait: one <see cref="Timeout"/> for anything that should happen soon, and one polling helper
/// for conditions no event announces. Waits are for things to happen; that something does <em>not</em> happen is shown
/// by what is armed instead (<see cref="ManualTimeProvider.IsArmedFor"/>), never by sleeping and looking.
/// </summary>
internal static class Wait
{
    /// <summary>How long a test waits for what should happen soon before it fails: generous, for a loaded 2-core machine.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>Polls <paramref name="probe"/> until it returns a value; fails, saying <paramref name="because"/>, after <paramref name="timeout"/> (<see cref="Timeout"/>).</summary>
    /// <returns>The value.</returns>
    public static async Task<T> UntilAsync<T>(Func<Task<T?>> probe, string because, TimeSpan? timeout = null)
        where T : class
    {
        var deadline = DateTime.UtcNow + (timeout ?? Timeout);
        while (true)
        {
            if (await probe() is { } value)
            {
                return value;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Waited {timeout ?? Timeout} in vain: {because}.");
            await Task.Delay(20);
        }
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; fails, saying <paramref name="because"/>, after <paramref name="timeout"/> (<see cref="Timeout"/>).</summary>
    public static Task UntilAsync(Func<Task<bool>> condition, string because, TimeSpan? timeout = null)
        => UntilAsync(async () => await condition() ? string.Empty : null, because, timeout);

    /// <summary>Polls <paramref name="condition"/> until it holds; fails, saying <paramref name="because"/>, after <paramref name="timeout"/> (<see cref="Timeout"/>).</summary>
    public static Task UntilAsync(Func<bool> condition, string because, TimeSpan? timeout = null)
        => UntilAsync(() => Task.FromResult(condition()), because, timeout);
}
