using System.Globalization;

namespace AkkaMigration.Node.Runtime;

/// <summary>
/// What CRIU cannot dump, read from /proc before anything is frozen: a dump that meets it fails
/// only after the freeze, and the reason is buried in its log.
/// </summary>
public static class ProcessChecks
{
    /// <summary>The reasons the process tree at <paramref name="rootPid"/> cannot be checkpointed; empty when none is seen.</summary>
    public static IReadOnlyList<string> UndumpableIn(int rootPid)
    {
        var problems = new List<string>();
        foreach (var pid in Tree(rootPid))
        {
            foreach (var target in FileTargets(pid))
            {
                if (target.Contains("io_uring", StringComparison.Ordinal))
                {
                    problems.Add($"process {pid} uses io_uring, which CRIU cannot dump");
                }
                else if (target.StartsWith("/dev/", StringComparison.Ordinal) && !IsStandardDevice(target))
                {
                    problems.Add($"process {pid} holds the device {target}, which would not exist on another host");
                }
            }
        }
        return [.. problems.Distinct()];
    }

    /// <summary>The resident memory of the process tree at <paramref name="rootPid"/> (shared pages counted in each); 0 when unknown.</summary>
    public static long ResidentBytesOfTree(int rootPid) => Tree(rootPid).Sum(ResidentBytes);

    /// <summary>A process's resident memory; 0 when unknown.</summary>
    private static long ResidentBytes(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return 0;
        }
    }

    /// <summary>
    /// When the process started (clock ticks since boot, the 22nd field of /proc/PID/stat), or null
    /// once it is gone or a zombie. A pid handed to a new process comes with another start.
    /// </summary>
    public static long? StartTicks(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command's name, in parentheses, may hold spaces and parentheses of its own.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields[0] is "Z" or "X" ? null : long.Parse(fields[19], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    private static bool IsStandardDevice(string path) =>
        path is "/dev/null" or "/dev/zero" or "/dev/full" or "/dev/random" or "/dev/urandom" or "/dev/tty" or "/dev/console"
        || path.StartsWith("/dev/pts/", StringComparison.Ordinal) || path.StartsWith("/dev/shm/", StringComparison.Ordinal);

    private static IEnumerable<string> FileTargets(int pid)
    {
        var links = new List<string>();
        try
        {
            foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
            {
                if (new FileInfo(fd).LinkTarget is { } target)
                {
                    links.Add(target);
                }
            }
            links.AddRange(File.ReadLines($"/proc/{pid}/maps").Where(l => l.Contains("io_uring", StringComparison.Ordinal)).Select(_ => "io_uring"));
        }
        catch (IOException)
        {
            // The process ended meanwhile: nothing of it needs dumping.
        }
        catch (UnauthorizedAccessException)
        {
        }
        return links;
    }

    private static IEnumerable<int> Tree(int root)
    {
        var pending = new Stack<int>([root]);
        var seen = new HashSet<int>();
        while (pending.TryPop(out var pid))
        {
            if (!seen.Add(pid))
            {
                continue;
            }
            yield return pid;
            foreach (var child in Children(pid))
            {
                pending.Push(child);
            }
        }
    }

    private static IEnumerable<int> Children(int pid)
    {
        try
        {
            return [.. Directory.EnumerateDirectories($"/proc/{pid}/task")
                .SelectMany(t => File.ReadAllText(Path.Combine(t, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Select(int.Parse)];
        }
        catch (IOException)
        {
            return [];
        }
    }
}
