using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Migration;

/// <summary>
/// The chunks an <see cref="ArchiveSender"/> has sent and the target not yet acknowledged, numbered
/// in the order they were read: at most <paramref name="size"/> of them, kept to be sent again
/// when acknowledgements stop.
/// </summary>
public sealed class SendWindow(string transferId, int size)
{
    private readonly Dictionary<long, ArchiveChunk> _unacknowledged = [];

    /// <summary>Chunks numbered so far; at the end, the archive's chunk count.</summary>
    public long Sent { get; private set; }

    public long AcknowledgedBytes { get; private set; }

    /// <summary>Times the window went out again since the last acknowledgement.</summary>
    public int Resends { get; private set; }

    public int Unacknowledged => _unacknowledged.Count;

    public bool IsFull => _unacknowledged.Count >= size;

    /// <summary>The next chunk, held until it is acknowledged.</summary>
    /// <param name="offset">Where <paramref name="data"/> starts in the archive.</param>
    public ArchiveChunk Add(long offset, byte[] data)
    {
        var chunk = new ArchiveChunk(transferId, Sent++, offset, data);
        _unacknowledged.Add(chunk.Sequence, chunk);
        return chunk;
    }

    /// <returns>The acknowledged chunk's buffer, free to reuse; null when it was acknowledged before.</returns>
    public byte[]? Acknowledge(long sequence)
    {
        if (!_unacknowledged.Remove(sequence, out var chunk))
        {
            return null;
        }
        AcknowledgedBytes += chunk.Data.Length;
        Resends = 0;
        return chunk.Data;
    }

    /// <summary>Every unacknowledged chunk, in order, to send again: one more resend.</summary>
    public IReadOnlyList<ArchiveChunk> Resend()
    {
        Resends++;
        return [.. _unacknowledged.Values.OrderBy(c => c.Sequence)];
    }
}
