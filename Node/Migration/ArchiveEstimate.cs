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
    /// The container's resident memory (VmRSS of its main process). CRIU dumps the pages a process has,
    /// not its address space, so the archive (uncompressed, `compression = none` by default) comes to
    /// about that; the resident file-backed pages (the binary, libc) are counted but not dumped, which
    /// errs on the safe side. Other processes of the container are not counted: the margin is for them.
    /// Always announced, and binding at the target (<see cref="AnnouncedSize"/>): never 0, and never
    /// more than the archive size limit, which the target enforces anyway (a compressed checkpoint may
    /// come to less than the memory).
    /// </summary>
    public static long Bytes(int pid, TransferSettings transfer) =>
        Math.Min(pid > 0 && ProcessChecks.ResidentBytes(pid) is > 0 and var resident ? resident : UnknownBytes, transfer.MaxArchiveBytes);

    /// <summary>The room to ask for: a tenth more, and <see cref="FixedMarginBytes"/>.</summary>
    public static long WithMargin(long expectedBytes) => expectedBytes + expectedBytes / 10 + FixedMarginBytes;
}
