using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Durably.Runtime.Engine;

/// <summary>
/// GUIDs and random seeds derived from a run's identity — its workflow id and the random seed recorded when it was
/// created (<see cref="Journal.RunRecord.Seed"/>): the same on every replay, different for every run, and different for
/// two runs with the same id in two databases. A run without a recorded seed (created before seeds) uses its id alone.
/// </summary>
internal static class DeterministicValues
{
    /// <summary>A version-5-style GUID from the workflow id and a per-run counter.</summary>
    public static Guid NewGuid(string workflowId, string? seed, long counter)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(seed is null ? $"durably/guid/{workflowId}/{counter}" : $"durably/guid/{workflowId}/{seed}/{counter}"), hash);
        var bytes = hash[..16];
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x50); // version 5: the high nibble of Data3, which Guid stores little-endian
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80); // RFC 4122 variant
        return new Guid(bytes);
    }

    /// <summary>A seed for <see cref="Random"/> from the workflow id.</summary>
    public static int Seed(string workflowId, string? seed)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(seed is null ? $"durably/random/{workflowId}" : $"durably/random/{workflowId}/{seed}"), hash);
        return BinaryPrimitives.ReadInt32LittleEndian(hash);
    }
}
