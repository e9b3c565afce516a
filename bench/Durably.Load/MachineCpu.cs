namespace Durably.Load;

/// <summary>
/// CPU time the whole machine spent busy (all processes, the database server's included), from Linux's /proc/stat; null
/// elsewhere. On a machine the load saturates this moves far less from run to run than throughput does, so it is the
/// figure to compare two builds by.
/// </summary>
internal static class MachineCpu
{
    public static TimeSpan? Busy()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/proc/stat"))
        {
            return null;
        }

        // "cpu  user nice system idle iowait irq softirq steal ...", in clock ticks (USER_HZ, 100 per second on Linux).
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(long.Parse).ToArray();
        var busy = fields.Take(8).Sum() - fields[3] - fields[4];
        return TimeSpan.FromSeconds(busy / 100.0);
    }
}
