using System.Security.Cryptography;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Tests.Support;

/// <summary>What a well-behaved source sends for an archive, for specs that play the source by hand.</summary>
public static class TransferMessages
{
    /// <summary>The size a source announces for the specs' small archives (<c>ExpectedBytes</c>): more than any of them has.</summary>
    public const long AnnouncedBytes = 1024 * 1024;

    public static List<ArchiveChunk> Chunk(byte[] archive, string transferId, int chunkBytes) =>
        archive.Chunk(chunkBytes).Select((data, i) => new ArchiveChunk(transferId, i, (long)i * chunkBytes, data)).ToList();

    public static EndOfArchive End(string jobId, string transferId, IReadOnlyCollection<ArchiveChunk> chunks, byte[] original) =>
        new(transferId, chunks.Count, original.Length, Convert.ToHexStringLower(SHA256.HashData(original)), Handoff(jobId));

    public static JobHandoff Handoff(string jobId) => new(jobId, Jobs.AddOneSpec(41), [], 0, DateTimeOffset.UtcNow);
}
