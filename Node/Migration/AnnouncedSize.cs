using AkkaMigration.Shared.Config;

namespace AkkaMigration.Node.Migration;

/// <summary>
/// The archive's size as its source announced it (<c>ExpectedBytes</c> of <c>BeginTransfer</c> and
/// <c>CheckRestore</c>), and binding: the target checked its room for that much with
/// <see cref="ArchiveEstimate"/>'s margin, so a source that announces nothing, or sends more, could
/// fill the disk past that check.
/// </summary>
public sealed class AnnouncedSize(long expectedBytes, TransferSettings transfer)
{
    /// <summary>The most a transfer may bring: what the room was checked for, and never past the archive size limit.</summary>
    public long Limit { get; } = Math.Min(ArchiveEstimate.WithMargin(expectedBytes), transfer.MaxArchiveBytes);

    private long _received;

    /// <summary>
    /// Why a source's announced size is refused, or null: none (0 or less), or more than the archive
    /// size limit (<c>[transfer] max_archive_mb</c>), which the receiver would cut off anyway.
    /// </summary>
    public static string? Problem(long expectedBytes, TransferSettings transfer) => expectedBytes switch
    {
        <= 0 => $"the source announces no size for the archive ({expectedBytes} bytes): without one the target cannot check its room",
        _ when expectedBytes > transfer.MaxArchiveBytes =>
            $"the source announces {Mb(expectedBytes)} MB, more than the {Mb(transfer.MaxArchiveBytes)} MB an archive may have (max_archive_mb)",
        _ => null,
    };

    /// <summary>
    /// Counts a chunk of <paramref name="length"/> bytes at <paramref name="offset"/> in, or says why
    /// not: it would reach past <see cref="Limit"/>, or all chunks received would come to more.
    /// </summary>
    public string? Take(long offset, int length)
    {
        // Offset + length could overflow past long.MaxValue and wrap round under the limit: compare without adding.
        if (offset > Limit - length || _received > Limit - length)
        {
            return $"the archive outgrows the size its source announced: {Mb(expectedBytes)} MB, {Mb(Limit)} MB with the margin the target's room was checked for";
        }
        _received += length;
        return null;
    }

    private static long Mb(long bytes) => bytes / (1024 * 1024);
}
