namespace Durably.Generators;

internal static class ThisAssembly
{
    /// <summary>Written into [GeneratedCode]; fixed so that snapshots do not change with every release.</summary>
    public const string Version = "1.0.0";
}
