using System.Buffers.Binary;
using System.Runtime.Serialization;
using System.Text;
using Akka.Actor;
using Akka.Serialization;

namespace AkkaMigration.Shared.Protocol;

/// <summary>
/// Archive chunks are the bulk of the traffic: a flat binary layout instead of JSON, whose
/// base64 would add a third to every chunk and cost a copy on each side.
/// Layout: sequence (8), offset (8), transfer id length (2), transfer id (UTF-8), data.
/// </summary>
public sealed class ArchiveChunkSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    private const string ChunkManifest = "C";
    private const int HeaderBytes = 18;

    public override int Identifier => 7801;

    public override string Manifest(object o) => o is ArchiveChunk
        ? ChunkManifest
        : throw new ArgumentException($"cannot serialize {o.GetType()}", nameof(o));

    public override byte[] ToBinary(object obj)
    {
        var chunk = (ArchiveChunk)obj;
        var idLength = Encoding.UTF8.GetByteCount(chunk.TransferId);
        var bytes = new byte[HeaderBytes + idLength + chunk.Data.Length];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, chunk.Sequence);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(8), chunk.Offset);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(16), checked((ushort)idLength));
        Encoding.UTF8.GetBytes(chunk.TransferId, bytes.AsSpan(HeaderBytes));
        chunk.Data.CopyTo(bytes.AsSpan(HeaderBytes + idLength));
        return bytes;
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (manifest != ChunkManifest || bytes.Length < HeaderBytes)
        {
            throw new SerializationException($"not an archive chunk (manifest '{manifest}', {bytes.Length} bytes)");
        }
        var idLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(16));
        if (HeaderBytes + idLength > bytes.Length)
        {
            throw new SerializationException("archive chunk header is longer than the chunk");
        }
        return new ArchiveChunk(
            Encoding.UTF8.GetString(bytes, HeaderBytes, idLength),
            BinaryPrimitives.ReadInt64LittleEndian(bytes),
            BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(8)),
            bytes.AsSpan(HeaderBytes + idLength).ToArray());
    }
}
