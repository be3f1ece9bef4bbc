using AkkaMigration.Node.Runtime;
using AkkaMigration.Shared.Config;

namespace AkkaMigration.Node.Migration;

/// <summary>
/// How big a checkpoint archive will be, told before podman writes it: for the target's room (the
/// pre-flight and the admission of a transfer) and the progress a client sees.
/// </summary>
public static class ArchiveEstimate
{
    /// <summary>Beyond the estimate: CRIU's images of files, sockets and the like, the container's changed files, a log.</summary>
    private const long FixedMarginBytes = 64L * 1024 * 1024;

    /// <summary>What is announced when the process's memory cannot be read (its watch has not seen it yet): the margin is its room.</summary>
    private const long UnknownBytes = 1024 * 1024;

    /// <summary>
    /// What podman will write: the resident memory of the container's processes (CRIU dumps the pages
    /// a process has, not its address space; resident file-backed pages such as the binary are counted
    /// but not dumped, which errs on the safe side) and its changed files (the archive's rootfs diff).
    /// Always announced, and binding at the target (<see cref="AnnouncedSize"/>): never 0, and never
    /// more than the archive size limit, which the target enforces anyway (a compressed checkpoint may
    /// come to less).
    /// </summary>
    public static long Bytes(int pid, TransferSettings transfer)
    {
        var memory = pid > 0 ? ProcessChecks.ResidentBytesOfTree(pid) : 0;
        if (memory <= 0)
        {
            return UnknownBytes;
        }
        return Math.Min(memory + ChangedFilesBytes(pid, transfer.MaxArchiveBytes), transfer.MaxArchiveBytes);
    }

    /// <summary>The size of the files in the container's overlay upper folder, counted up to <paramref name="limit"/>; 0 when unknown.</summary>
    public static long ChangedFilesBytes(int pid, long limit)
    {
        string? upper;
        try
        {
            upper = UpperDir(File.ReadLines($"/proc/{pid}/mountinfo"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
        if (upper is null || !Directory.Exists(upper))
        {
            return 0;
        }
        var total = 0L;
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 };
        foreach (var file in new DirectoryInfo(upper).EnumerateFiles("*", options))
        {
            total += file.Length;
            if (total >= limit)
            {
                break;
            }
        }
        return total;
    }

    /// <summary>The upperdir of the overlay mounted at a process's root, from its /proc/PID/mountinfo lines; null if its root is no overlay.</summary>
    public static string? UpperDir(IEnumerable<string> mountinfo)
    {
        foreach (var line in mountinfo)
        {
            // "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS"
            var fields = line.Split(' ');
            var separator = Array.IndexOf(fields, "-");
            if (fields.Length < 5 || fields[4] != "/" || separator < 0 || separator + 3 >= fields.Length || fields[separator + 1] != "overlay")
            {
                continue;
            }
            return fields[separator + 3].Split(',').FirstOrDefault(o => o.StartsWith("upperdir=", StringComparison.Ordinal))?["upperdir=".Length..];
        }
        return null;
    }

    /// <summary>The room to ask for: a tenth more, and <see cref="FixedMarginBytes"/>.</summary>
    public static long WithMargin(long expectedBytes) => expectedBytes + expectedBytes / 10 + FixedMarginBytes;
}
