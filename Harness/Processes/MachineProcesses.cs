namespace AkkaMigration.Harness.Processes;

/// <summary>
/// The machine's processes as /proc shows them. The simulated hosts share this machine's kernel,
/// so their nodes', podman's, CRIU's and the containers' processes are all here.
/// </summary>
public static class MachineProcesses
{
    /// <summary>A process and its command line, split at its NULs (a zombie's is empty, and it is left out).</summary>
    public sealed record Running(int Pid, string[] Arguments);

    /// <summary>Every process now; one that ends while it is read is left out.</summary>
    public static IEnumerable<Running> Now() => Pids().Select(Of).OfType<Running>();

    /// <summary>The processes the kernel names <paramref name="name"/>, found by their short comm before any command line is read.</summary>
    public static IEnumerable<Running> Named(string name) => Pids().Where(pid => Name(pid) == name).Select(Of).OfType<Running>();

    /// <summary>The name the kernel keeps for the process (its comm), which its own title does not change; null once it is gone.</summary>
    public static string? Name(int pid) => Read(pid, "comm")?.Trim();

    private static IEnumerable<int> Pids() =>
        Directory.EnumerateDirectories("/proc").Select(folder => int.TryParse(Path.GetFileName(folder), out var pid) ? pid : 0).Where(pid => pid > 0);

    private static Running? Of(int pid) =>
        Read(pid, "cmdline") is { Length: > 0 } cmdline ? new Running(pid, cmdline.TrimEnd('\0').Split('\0')) : null;

    private static string? Read(int pid, string file)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/{file}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
