namespace AkkaMigration.Node.Runtime;

/// <summary>What a host's hardware offers a restored process.</summary>
public static class HostFacts
{
    private static readonly Lazy<string[]> Flags = new(ReadCpuFlags);

    /// <summary>The CPU's feature flags as /proc/cpuinfo lists them (those of the first CPU; all of a host's are alike).</summary>
    public static string[] CpuFlags() => Flags.Value;

    private static string[] ReadCpuFlags()
    {
        var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal));
        return line is null ? [] : line[(line.IndexOf(':') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }
}
